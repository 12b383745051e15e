using System.Text.Json;
using System.Text.Json.Nodes;
using AtlassianConnect;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JiraSimulator;

/// <summary>
/// Does what Jira does when an admin installs, uninstalls, enables or disables a Connect app: reads the
/// descriptor, then POSTs the lifecycle payload with a token signed the way Jira signs it (RS256 by the key
/// server's key for installed/uninstalled, HS256 with the shared secret for enabled/disabled). Tests use it
/// in-process; the simulator's admin endpoints use it over HTTP.
/// </summary>
public sealed class ConnectAppInstaller(InstallKeyServer keys, TimeProvider? time = null)
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The app as its descriptor describes it.</summary>
    public sealed record AppDescriptor(string Key, Uri BaseUrl, JsonObject Json)
    {
        /// <summary>The scopes the descriptor asks for (READ, WRITE, ...): the site grants those at install.</summary>
        public IReadOnlyList<string> Scopes => Json["scopes"] is System.Text.Json.Nodes.JsonArray scopes ? [.. scopes.Select(s => s?.ToString() ?? string.Empty)] : [];
    }

    public static async Task<AppDescriptor> ReadDescriptorAsync(HttpClient app, CancellationToken cancellationToken = default)
    {
        var json = await app.GetFromJsonAsync<JsonObject>("atlassian-connect.json", cancellationToken)
            ?? throw new InvalidOperationException("The app served an empty descriptor.");
        return new AppDescriptor(json["key"]!.GetValue<string>(), new Uri(json["baseUrl"]!.GetValue<string>()), json);
    }

    /// <summary>The lifecycle payload Jira sends for <paramref name="site"/>.</summary>
    public static Dictionary<string, object?> Payload(SimulatedSite site, string appKey, string eventType, string? sharedSecret = null)
    {
        var payload = new Dictionary<string, object?>
        {
            ["key"] = appKey,
            ["clientKey"] = site.ClientKey,
            ["baseUrl"] = site.BaseUrl.ToString().TrimEnd('/'),
            ["displayUrl"] = site.BaseUrl.ToString().TrimEnd('/'),
            ["productType"] = "jira",
            ["description"] = $"Simulated Jira site {site.Name}",
            ["eventType"] = eventType,
            ["serverVersion"] = "100280",
            ["pluginsVersion"] = "1001.0.0-SNAPSHOT",
            ["installationId"] = site.InstallationId,
            ["oauthClientId"] = site.OauthClientId,
        };
        if (sharedSecret is not null)
        {
            payload["sharedSecret"] = sharedSecret;
        }

        return payload;
    }

    /// <summary>The RS256 token Jira puts on installed/uninstalled; <paramref name="tamper"/> lets attack tests change claims.</summary>
    public string SignedInstallToken(string clientKey, Uri appBaseUrl, string path, Action<Dictionary<string, object>>? tamper = null, string? kid = null)
    {
        var now = _time.GetUtcNow();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = clientKey,
            ["aud"] = new[] { appBaseUrl.ToString().TrimEnd('/') },
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.AddMinutes(3).ToUnixTimeSeconds(),
            ["qsh"] = QueryStringHash.Compute("POST", path),
            ["context"] = new Dictionary<string, object>(),
        };
        tamper?.Invoke(claims);
        kid ??= keys.CurrentKid;
        var credentials = new SigningCredentials(new RsaSecurityKey(keys.PrivateKey(kid)) { KeyId = kid }, SecurityAlgorithms.RsaSha256);
        return Handler.CreateToken(JsonSerializer.Serialize(claims), credentials);
    }

    /// <summary>Installs the app on <paramref name="site"/> with a fresh shared secret; on success the site keeps it.</summary>
    public async Task<HttpResponseMessage> InstallAsync(HttpClient app, SimulatedSite site, CancellationToken cancellationToken = default)
    {
        var descriptor = await ReadDescriptorAsync(app, cancellationToken);
        var secret = SimulatedSite.NewSharedSecret();
        var payload = Payload(site, descriptor.Key, "installed", secret);
        var token = SignedInstallToken(site.ClientKey, descriptor.BaseUrl, "/installed");
        var response = await SendAsync(app, "installed", payload, token, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            site.SharedSecret = secret;
            site.AppKey = descriptor.Key;
            site.App = descriptor;
            site.AppClient = app; // webhooks go where the install went
        }

        return response;
    }

    public async Task<HttpResponseMessage> UninstallAsync(HttpClient app, SimulatedSite site, CancellationToken cancellationToken = default)
    {
        var descriptor = await ReadDescriptorAsync(app, cancellationToken);
        var token = SignedInstallToken(site.ClientKey, descriptor.BaseUrl, "/uninstalled");
        return await SendAsync(app, "uninstalled", Payload(site, descriptor.Key, "uninstalled"), token, cancellationToken);
    }

    /// <summary>enabled / disabled, signed with the site's shared secret.</summary>
    public async Task<HttpResponseMessage> SetEnabledAsync(HttpClient app, SimulatedSite site, bool enabled, CancellationToken cancellationToken = default)
    {
        var descriptor = await ReadDescriptorAsync(app, cancellationToken);
        var eventType = enabled ? "enabled" : "disabled";
        var token = SiteTokens.Request(site, "POST", "/" + eventType, time: _time);
        return await SendAsync(app, eventType, Payload(site, descriptor.Key, eventType), token, cancellationToken);
    }

    public static Task<HttpResponseMessage> SendAsync(HttpClient app, string path, object payload, string? token, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(payload) };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "JWT " + token);
        }

        return app.SendAsync(request, cancellationToken);
    }
}
