using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using AtlassianConnect;
using Microsoft.Extensions.Options;

namespace ConnectApp.Jira;

/// <summary>
/// The authorization server refused to let the app act as the user (400/401/403 from the token endpoint: the app lacks
/// ACT_AS_USER, the account is unknown or cannot use the site, the assertion was refused). Carries no secret.
/// </summary>
internal sealed class UserTokenRefusedException(HttpStatusCode status, string? error)
    : Exception($"The authorization server answered {(int)status}{(error is { Length: > 0 } ? " (" + error + ")" : string.Empty)} to the act-as-user grant.")
{
    public HttpStatusCode Status { get; } = status;
}

/// <summary>
/// Act-as-user for Connect (OAuth 2.0 JWT bearer grant, connect-platform.md §3): an assertion signed HS256 with the
/// site's shared secret (<c>iss</c> = <c>urn:atlassian:connect:clientid:{oauthClientId}</c>, <c>sub</c> =
/// <c>urn:atlassian:connect:useraccountid:{accountId}</c>, <c>tnt</c> = the site's baseUrl, <c>aud</c> =
/// <c>CONNECT_OAUTH_URL</c>, 60 s) is exchanged at <c>{CONNECT_OAUTH_URL}/oauth2/token</c> for an access token, which
/// is cached in memory per site, oauthClientId, account and scopes until <c>expires_in</c> less a margin (60 s, or half
/// the lifetime when that is shorter). One grant at a time per key, so a burst of write-backs by one agent asks once.
/// 429/5xx are retried by the named client (Retry-After honoured); no usable answer is a <see cref="JiraCallException"/>
/// (transient); 400/401/403 is a <see cref="UserTokenRefusedException"/>. The assertion and the token are never logged,
/// stored or put in an exception's message.
/// </summary>
internal sealed class UserTokens(IHttpClientFactory clients, IOptions<ConnectOptions> options, TimeProvider time)
{
    public const string HttpClientName = "connect-oauth";

    public const string GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    /// <summary>The assertion's lifetime (what Atlassian's own libraries use).</summary>
    public static readonly TimeSpan AssertionLifetime = TimeSpan.FromSeconds(60);

    /// <summary>A cached token is given up this long before it expires (at most half its lifetime).</summary>
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(60);

    private const int MaxCached = 10_000;

    private readonly record struct Key(string ClientKey, string OauthClientId, string AccountId, string Scopes);

    private sealed record Entry(string Token, DateTimeOffset Until);

    private readonly ConcurrentDictionary<Key, Entry> _cache = new();

    private readonly ConcurrentDictionary<Key, SemaphoreSlim> _gates = new();

    /// <summary>An access token to call <paramref name="tenant"/> as <paramref name="accountId"/> with <paramref name="scopes"/> (space-separated, upper case).</summary>
    public async Task<string> GetAsync(ConnectTenant tenant, string oauthClientId, string accountId, string scopes, CancellationToken cancellationToken)
    {
        var key = new Key(tenant.ClientKey, oauthClientId, accountId, scopes);
        if (Fresh(key) is { } cached)
        {
            return cached;
        }

        var gate = _gates.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (Fresh(key) is { } granted)
            {
                return granted; // another caller got it while this one waited
            }

            var (token, lifetime) = await GrantAsync(tenant, oauthClientId, accountId, scopes, cancellationToken);
            var margin = lifetime < RefreshMargin * 2 ? lifetime / 2 : RefreshMargin;
            if (_cache.Count >= MaxCached)
            {
                Sweep();
            }

            _cache[key] = new Entry(token, time.GetUtcNow() + lifetime - margin);
            return token;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Drops <paramref name="token"/> from the cache (the site refused it: expired or revoked early), so the next call asks for a new one.</summary>
    public void Forget(ConnectTenant tenant, string oauthClientId, string accountId, string scopes, string token)
    {
        var key = new Key(tenant.ClientKey, oauthClientId, accountId, scopes);
        if (_cache.TryGetValue(key, out var entry) && string.Equals(entry.Token, token, StringComparison.Ordinal))
        {
            _cache.TryRemove(new KeyValuePair<Key, Entry>(key, entry));
        }
    }

    private string? Fresh(Key key) => _cache.TryGetValue(key, out var entry) && entry.Until > time.GetUtcNow() ? entry.Token : null;

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (key, entry) in _cache)
        {
            if (entry.Until <= now)
            {
                _cache.TryRemove(new KeyValuePair<Key, Entry>(key, entry));
                _gates.TryRemove(key, out _);
            }
        }
    }

    private async Task<(string Token, TimeSpan Lifetime)> GrantAsync(ConnectTenant tenant, string oauthClientId, string accountId, string scopes, CancellationToken cancellationToken)
    {
        var server = (options.Value.OAuthUrl ?? throw new InvalidOperationException("CONNECT_OAUTH_URL is not set.")).ToString().TrimEnd('/');
        var now = time.GetUtcNow();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = "urn:atlassian:connect:clientid:" + oauthClientId,
            ["sub"] = "urn:atlassian:connect:useraccountid:" + accountId,
            ["tnt"] = tenant.BaseUrl.ToString().TrimEnd('/'),
            ["aud"] = server,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.Add(AssertionLifetime).ToUnixTimeSeconds(),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, server + "/oauth2/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = GrantType,
                ["assertion"] = ConnectJwt.CreateSymmetric(claims, tenant.SharedSecret),
                ["scope"] = scopes,
            }),
        };
        request.Headers.Accept.Add(new("application/json"));

        HttpResponseMessage response;
        try
        {
            response = await clients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new JiraCallException($"The authorization server did not answer the act-as-user grant: {e.GetType().Name}", inner: e);
        }

        using (response)
        {
            JsonElement body = default;
            try
            {
                body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            }
            catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
            {
                // no JSON: the status says it all
            }

            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new UserTokenRefusedException(response.StatusCode, Describe(body));
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new JiraCallException($"The authorization server answered {(int)response.StatusCode} to the act-as-user grant", response.StatusCode);
            }

            if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("access_token", out var token) || token.ValueKind != JsonValueKind.String
                || token.GetString() is not { Length: > 0 } accessToken)
            {
                throw new JiraCallException("The authorization server answered the act-as-user grant without an access token");
            }

            var seconds = body.TryGetProperty("expires_in", out var expires) && expires.ValueKind == JsonValueKind.Number && expires.TryGetInt32(out var s) && s > 0 ? s : 60;
            return (accessToken, TimeSpan.FromSeconds(seconds));
        }
    }

    /// <summary>The OAuth error code and description, short; never the assertion.</summary>
    private static string? Describe(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var code = body.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        var text = body.TryGetProperty("error_description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        var both = string.Join(": ", new[] { code, text }.Where(x => !string.IsNullOrEmpty(x)));
        return both.Length == 0 ? null : both.Length > 200 ? both[..200] : both;
    }
}
