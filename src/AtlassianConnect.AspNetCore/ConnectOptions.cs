using System.ComponentModel.DataAnnotations;

namespace AtlassianConnect;

/// <summary>Settings shared by every part of the Connect library.</summary>
public sealed class ConnectOptions : IValidatableObject
{
    /// <summary>The app key from the descriptor (<c>APP_KEY</c>).</summary>
    [Required]
    [RegularExpression("^[a-zA-Z0-9\\-._]{1,64}$", ErrorMessage = "APP_KEY must be 1-64 characters of letters, digits, '-', '.' or '_'.")]
    public string AppKey { get; set; } = string.Empty;

    /// <summary>The app's public base URL (<c>APP_BASE_URL</c>): the descriptor's <c>baseUrl</c> and the install <c>aud</c>.</summary>
    [Required]
    public Uri? BaseUrl { get; set; }

    /// <summary>Where signed-install public keys are fetched from, as <c>{InstallKeysUrl}/{kid}</c>.</summary>
    [Required]
    public Uri? InstallKeysUrl { get; set; } = new("https://connect-install-keys.atlassian.com/");

    /// <summary>
    /// The OAuth 2.0 authorization server that grants act-as-user tokens (<c>CONNECT_OAUTH_URL</c>): the JWT-bearer
    /// assertion's <c>aud</c>, and <c>{OAuthUrl}/oauth2/token</c> is where it is sent.
    /// </summary>
    [Required(ErrorMessage = "CONNECT_OAUTH_URL must be an absolute http(s) URL without a query.")]
    public Uri? OAuthUrl { get; set; } = new("https://oauth-2-authorization-server.services.atlassian.com");

    /// <summary>Host suffixes a tenant's <c>baseUrl</c> may have (<c>.atlassian.net</c>); an entry without a leading dot matches that host exactly.</summary>
    public IList<string> AllowedHostSuffixes { get; } = [];

    /// <summary>Leeway for <c>exp</c>, <c>nbf</c> and <c>iat</c>.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Tokens longer than this are rejected before parsing.</summary>
    [Range(512, 65536)]
    public int MaxTokenLength { get; set; } = 8192;

    /// <summary>The path of <see cref="BaseUrl"/>, stripped from incoming paths before the query string hash is computed.</summary>
    public string BasePath => BaseUrl?.AbsolutePath.TrimEnd('/') ?? string.Empty;

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BaseUrl is { } b && (!b.IsAbsoluteUri || (b.Scheme != Uri.UriSchemeHttps && b.Scheme != Uri.UriSchemeHttp) || !string.IsNullOrEmpty(b.Query)))
        {
            yield return new ValidationResult("APP_BASE_URL must be an absolute http(s) URL without a query.", [nameof(BaseUrl)]);
        }

        if (InstallKeysUrl is { } k && (!k.IsAbsoluteUri || (k.Scheme != Uri.UriSchemeHttps && k.Scheme != Uri.UriSchemeHttp)))
        {
            yield return new ValidationResult("CONNECT_INSTALL_KEYS_URL must be an absolute http(s) URL.", [nameof(InstallKeysUrl)]);
        }

        if (OAuthUrl is { } o && (!o.IsAbsoluteUri || (o.Scheme != Uri.UriSchemeHttps && o.Scheme != Uri.UriSchemeHttp) || !string.IsNullOrEmpty(o.Query)))
        {
            yield return new ValidationResult("CONNECT_OAUTH_URL must be an absolute http(s) URL without a query.", [nameof(OAuthUrl)]);
        }

        if (AllowedHostSuffixes.Count == 0 || AllowedHostSuffixes.Any(s => string.IsNullOrWhiteSpace(s) || s.Contains('/', StringComparison.Ordinal) || s.Contains(':', StringComparison.Ordinal)))
        {
            yield return new ValidationResult("ALLOWED_HOST_SUFFIXES must list host suffixes such as .atlassian.net (comma separated).", [nameof(AllowedHostSuffixes)]);
        }
    }

    /// <summary>Whether a tenant <c>baseUrl</c> is on the allow-list (https, or http on loopback only).</summary>
    public bool IsAllowedTenantBaseUrl(string? baseUrl)
    {
        if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return false;
        }

        var host = uri.IdnHost.ToLowerInvariant();
        var secure = uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback);
        return secure && AllowedHostSuffixes.Any(s => HostMatches(host, s.Trim().ToLowerInvariant()));
    }

    private static bool HostMatches(string host, string suffix) =>
        suffix.StartsWith('.') ? host.EndsWith(suffix, StringComparison.Ordinal) && host.Length > suffix.Length : host == suffix;
}
