using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AtlassianConnect.Forge;

/// <summary>Outcome of a key lookup: the key, or whether the kid is unknown or the key server could not be read.</summary>
public sealed record ForgeKeyLookup(SecurityKey? Key, bool Unavailable);

/// <summary>
/// The Forge Invocation Token signing keys, read from <see cref="ForgeOptions.JwksUrl"/> and cached for
/// <see cref="ForgeOptions.KeysCacheFor"/>. A token with a kid the cache lacks refreshes the set, at most once per
/// <see cref="ForgeOptions.MinRefreshInterval"/> (rotated keys are picked up; forged kids cost one fetch a minute).
/// </summary>
public sealed class ForgeKeySet(IHttpClientFactory http, IOptions<ForgeOptions> options, TimeProvider time, ILogger<ForgeKeySet> logger) : IDisposable
{
    /// <summary>The name of the <see cref="HttpClient"/> used for the JWKS.</summary>
    public const string HttpClientName = "forge-jwks";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IReadOnlyDictionary<string, SecurityKey> _keys = new Dictionary<string, SecurityKey>();
    private DateTimeOffset _fetchedAt = DateTimeOffset.MinValue;
    private DateTimeOffset _lastUnknownKidRefresh = DateTimeOffset.MinValue;

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();

    /// <summary>Finds the key for <paramref name="kid"/>, fetching the set when it is stale or lacks the kid (rate-limited).</summary>
    public async Task<ForgeKeyLookup> GetAsync(string kid, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_keys.TryGetValue(kid, out var key) && now - _fetchedAt < options.Value.KeysCacheFor)
        {
            return new(key, Unavailable: false);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            now = time.GetUtcNow();
            var fresh = now - _fetchedAt < options.Value.KeysCacheFor;
            if (_keys.TryGetValue(kid, out key) && fresh)
            {
                return new(key, Unavailable: false);
            }

            if (fresh)
            {
                // A kid the fresh set lacks: a rotation, or a forgery. Refresh, but not more than once per interval.
                if (now - _lastUnknownKidRefresh < options.Value.MinRefreshInterval)
                {
                    return new(null, Unavailable: false);
                }

                _lastUnknownKidRefresh = now;
            }

            if (await FetchAsync(cancellationToken) is not { } keys)
            {
                return _keys.TryGetValue(kid, out key) ? new(key, false) : new(null, Unavailable: true);
            }

            _keys = keys;
            _fetchedAt = now;
            return new(keys.GetValueOrDefault(kid), Unavailable: false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IReadOnlyDictionary<string, SecurityKey>?> FetchAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.CreateClient(HttpClientName).GetAsync(options.Value.JwksUrl, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("Forge JWKS answered {Status}", (int)response.StatusCode);
                return null;
            }

            var json = await response.Content.ReadAsStringAsync(cancellationToken);
            if (json.Length > 1_000_000)
            {
                return null;
            }

            var set = new JsonWebKeySet(json);
            return set.Keys
                .Where(k => k.Kty == JsonWebAlgorithmsKeyTypes.RSA && !string.IsNullOrEmpty(k.Kid) && (k.Use is null or "sig"))
                .GroupBy(k => k.Kid, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => (SecurityKey)g.First(), StringComparer.Ordinal);
        }
        catch (Exception e) when ((e is HttpRequestException or TaskCanceledException or ArgumentException or System.Text.Json.JsonException) && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Forge JWKS could not be read");
            return null;
        }
    }
}
