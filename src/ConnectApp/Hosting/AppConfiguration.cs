using AtlassianConnect;
using AtlassianConnect.Forge;

namespace ConnectApp.Hosting;

/// <summary>
/// Maps the Heroku-style environment (PORT, APP_BASE_URL, APP_KEY, DATABASE_URL, ...) onto one options class per
/// feature. Defaults are for a local run; production sets every variable (see app.json).
/// </summary>
internal static class AppConfiguration
{
    public const string DefaultPort = "8080";

    public static string Port(IConfiguration c) => c["PORT"] is { Length: > 0 } p ? p : DefaultPort;

    public static void AddConnectOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ConnectOptions>(o =>
            {
                o.AppKey = configuration["APP_KEY"] ?? "com.connectapp.local";
                var baseUrl = configuration["APP_BASE_URL"] ?? $"http://localhost:{Port(configuration)}";
                o.BaseUrl = Uri.TryCreate(baseUrl, UriKind.Absolute, out var u) ? u : null;
                if (configuration["CONNECT_INSTALL_KEYS_URL"] is { Length: > 0 } keys)
                {
                    o.InstallKeysUrl = Uri.TryCreate(keys, UriKind.Absolute, out var k) ? k : null;
                }

                if (configuration["CONNECT_OAUTH_URL"] is { Length: > 0 } oauth)
                {
                    o.OAuthUrl = Uri.TryCreate(oauth, UriKind.Absolute, out var a) ? a : null;
                }

                foreach (var suffix in (configuration["ALLOWED_HOST_SUFFIXES"] ?? ".atlassian.net").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    o.AllowedHostSuffixes.Add(suffix);
                }
            })
            .ValidateDataAnnotations();
    }

    /// <summary>
    /// Forge Remote (Connect on Forge): <c>FORGE_APP_ID</c> (unset: invocation tokens are refused), <c>FORGE_JWKS_URL</c>
    /// (Atlassian's production JWKS by default), <c>FORGE_API_BASE_URLS</c> (comma-separated prefixes a token's apiBaseUrl
    /// may have; Atlassian's API gateways by default).
    /// </summary>
    public static void AddForgeOptions(this IServiceCollection services, IConfiguration configuration) =>
        services.AddValidatedOptions<ForgeOptions>(o =>
            {
                o.AppId = configuration["FORGE_APP_ID"] is { Length: > 0 } id ? id : null;
                if (configuration["FORGE_JWKS_URL"] is { Length: > 0 } jwks)
                {
                    o.JwksUrl = Uri.TryCreate(jwks, UriKind.Absolute, out var u) ? u : null;
                }

                if (configuration["FORGE_API_BASE_URLS"] is { Length: > 0 } prefixes)
                {
                    o.AllowedApiBaseUrlPrefixes.Clear();
                    foreach (var prefix in prefixes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        o.AllowedApiBaseUrlPrefixes.Add(prefix);
                    }
                }
            })
            .ValidateDataAnnotations();
}
