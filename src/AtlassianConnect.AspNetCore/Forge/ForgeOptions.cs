using System.ComponentModel.DataAnnotations;

namespace AtlassianConnect.Forge;

/// <summary>Settings of Forge Remote: which app's invocation tokens to accept, and where their keys are.</summary>
public sealed class ForgeOptions : IValidatableObject
{
    /// <summary>The prefix of a Forge app ARI; <c>aud</c> of the app's invocation tokens is this plus the app id.</summary>
    public const string AppAriPrefix = "ari:cloud:ecosystem::app/";

    /// <summary>Atlassian's production JWKS for Forge Invocation Tokens.</summary>
    public static readonly Uri ProductionJwksUrl = new("https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json");

    /// <summary>The Forge app id (a UUID, or its full ARI) from <c>manifest.yml</c>; unset means Forge Invocation Tokens are refused.</summary>
    public string? AppId { get; set; }

    /// <summary>Where the signing keys are published.</summary>
    [Required]
    public Uri? JwksUrl { get; set; } = ProductionJwksUrl;

    /// <summary>Leeway for <c>exp</c> and <c>nbf</c>: small, the tokens live for a minute.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long fetched keys are trusted before the JWKS is read again.</summary>
    public TimeSpan KeysCacheFor { get; set; } = TimeSpan.FromHours(1);

    /// <summary>An unknown <c>kid</c> refreshes the JWKS at most this often, so forged kids cannot flood the key server.</summary>
    public TimeSpan MinRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Tokens longer than this are rejected before parsing.</summary>
    [Range(512, 65536)]
    public int MaxTokenLength { get; set; } = 16384;

    /// <summary>
    /// Where a token's <c>app.apiBaseUrl</c> may point (outgoing calls with the Forge OAuth tokens go there): Atlassian's
    /// API gateways by default.
    /// </summary>
    public IList<string> AllowedApiBaseUrlPrefixes { get; } = ["https://api.atlassian.com/", "https://api.stg.atlassian.com/"];

    /// <summary>The <c>aud</c> an invocation token must carry; null when no app id is configured.</summary>
    public string? Audience => string.IsNullOrWhiteSpace(AppId) ? null : AppId.StartsWith(AppAriPrefix, StringComparison.Ordinal) ? AppId : AppAriPrefix + AppId;

    /// <summary>Whether <paramref name="apiBaseUrl"/> is under one of <see cref="AllowedApiBaseUrlPrefixes"/> (https, or http on loopback).</summary>
    public bool IsAllowedApiBaseUrl(string? apiBaseUrl) =>
        Uri.TryCreate(apiBaseUrl, UriKind.Absolute, out var uri) && IsSecureOrLoopback(uri) && string.IsNullOrEmpty(uri.UserInfo) && string.IsNullOrEmpty(uri.Query)
        && AllowedApiBaseUrlPrefixes.Any(p => (uri.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/").StartsWith(p, StringComparison.OrdinalIgnoreCase));

    private static bool IsSecureOrLoopback(Uri uri) => uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (JwksUrl is { } j && (!j.IsAbsoluteUri || (j.Scheme != Uri.UriSchemeHttps && j.Scheme != Uri.UriSchemeHttp)))
        {
            yield return new ValidationResult("FORGE_JWKS_URL must be an absolute http(s) URL.", [nameof(JwksUrl)]);
        }

        if (AppId is { Length: > 0 } id && !Guid.TryParse(id.StartsWith(AppAriPrefix, StringComparison.Ordinal) ? id[AppAriPrefix.Length..] : id, out _))
        {
            yield return new ValidationResult("FORGE_APP_ID must be the Forge app id (a UUID) or its ARI ari:cloud:ecosystem::app/<uuid>.", [nameof(AppId)]);
        }

        if (AllowedApiBaseUrlPrefixes.Any(p => !Uri.TryCreate(p, UriKind.Absolute, out var u) || !IsSecureOrLoopback(u) || !p.EndsWith('/')))
        {
            yield return new ValidationResult("FORGE_API_BASE_URLS must list https URL prefixes (http only on loopback) ending in '/'.", [nameof(AllowedApiBaseUrlPrefixes)]);
        }
    }
}
