using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AtlassianConnect.Lifecycle;

/// <summary>Outcome of a key lookup: the key, or why there is none.</summary>
public sealed record InstallKeyLookup(SecurityKey? Key, bool Unknown, bool Unavailable);

/// <summary>Fetches the RSA public keys that sign install callbacks.</summary>
public interface IInstallKeyProvider
{
    /// <summary>Finds the public key for <paramref name="kid"/>.</summary>
    Task<InstallKeyLookup> GetAsync(string kid, CancellationToken cancellationToken);
}

/// <summary>
/// Reads PEM keys from <c>{InstallKeysUrl}/{kid}</c>. A key never changes under its kid, so found keys are
/// cached for a day; unknown kids for a minute, so a flood of forged kids cannot turn into a flood of fetches.
/// </summary>
public sealed partial class InstallKeyProvider(HttpClient http, IMemoryCache cache, IOptions<ConnectOptions> options, ILogger<InstallKeyProvider> logger) : IInstallKeyProvider
{
    /// <summary>The name of the <see cref="HttpClient"/> used for the key server.</summary>
    public const string HttpClientName = "connect-install-keys";

    /// <inheritdoc />
    public async Task<InstallKeyLookup> GetAsync(string kid, CancellationToken cancellationToken)
    {
        if (!IsWellFormedKid(kid))
        {
            return new(null, Unknown: true, Unavailable: false);
        }

        var cacheKey = "connect-install-key:" + kid;
        if (cache.TryGetValue(cacheKey, out InstallKeyLookup? cached) && cached is not null)
        {
            return cached;
        }

        var url = new Uri(options.Value.InstallKeysUrl!.ToString().TrimEnd('/') + "/" + kid);
        InstallKeyLookup result;
        try
        {
            using var response = await http.GetAsync(url, cancellationToken);
            if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest)
            {
                result = new(null, Unknown: true, Unavailable: false);
            }
            else if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("Install key server answered {Status} for a key", (int)response.StatusCode);
                return new(null, Unknown: false, Unavailable: true);
            }
            else
            {
                var pem = await response.Content.ReadAsStringAsync(cancellationToken);
                result = new(ParsePem(pem), Unknown: false, Unavailable: false);
                if (result.Key is null)
                {
                    result = new(null, Unknown: true, Unavailable: false);
                }
            }
        }
        catch (HttpRequestException e)
        {
            logger.LogWarning(e, "Install key server unreachable");
            return new(null, Unknown: false, Unavailable: true);
        }

        cache.Set(cacheKey, result, new MemoryCacheEntryOptions
        {
            AbsoluteExpirationRelativeToNow = result.Key is null ? TimeSpan.FromMinutes(1) : TimeSpan.FromHours(24),
            Size = 1,
        });
        return result;
    }

    private static RsaSecurityKey? ParsePem(string pem)
    {
        if (pem.Length > 16_384)
        {
            return null;
        }

        try
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return null;
        }
    }

    /// <summary>Kids become a URL path: letters, digits and <c>- _ . /</c> only, no <c>..</c>, at most 256 characters.</summary>
    internal static bool IsWellFormedKid(string kid) =>
        kid.Length is > 0 and <= 256 && KidPattern().IsMatch(kid) && !kid.Contains("..", StringComparison.Ordinal) && kid[0] != '/';

    [GeneratedRegex("^[A-Za-z0-9_./-]+$")]
    private static partial Regex KidPattern();
}
