using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

[Collection(AppCollection.Name)]
public sealed class LifecycleTests(ConnectAppFixture app)
{
    [Fact]
    public async Task Descriptor_CarriesBaseUrlKeyLifecycleAndApiMigrations()
    {
        var json = await app.Client().GetFromJsonAsync<JsonObject>("/atlassian-connect.json");
        Assert.Equal("https://connectapp.test", json!["baseUrl"]!.GetValue<string>());
        Assert.Equal(ConnectAppFixture.AppKey, json["key"]!.GetValue<string>());
        Assert.Equal("jwt", json["authentication"]!["type"]!.GetValue<string>());
        Assert.True(json["apiMigrations"]!["signed-install"]!.GetValue<bool>());
        Assert.True(json["apiMigrations"]!["context-qsh"]!.GetValue<bool>());
        Assert.Equal("/installed", json["lifecycle"]!["installed"]!.GetValue<string>());
        Assert.Equal("/uninstalled", json["lifecycle"]!["uninstalled"]!.GetValue<string>());
        Assert.DoesNotContain("{{", json.ToJsonString(), StringComparison.Ordinal);
        // Least privilege: read and write, and act-as-user for membership write-backs attributed to the agent (ADR 15).
        Assert.Equal(["READ", "WRITE", "ACT_AS_USER"], json["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task Install_WithSignedToken_StoresTenantAndAcceptsItsTokens()
    {
        var site = await app.InstallSiteAsync();

        var row = await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey);
        Assert.NotNull(row);
        Assert.Equal(site.BaseUrl.ToString().TrimEnd('/'), row.BaseUrl);
        Assert.True(row.Enabled);
        Assert.Null(row.UninstalledAt);
        var whoami = await app.AsContext(site, "557058:alice").GetFromJsonAsync<JsonObject>("/api/whoami");
        Assert.Equal(site.ClientKey, whoami!["clientKey"]!.GetValue<string>());
        Assert.Equal("557058:alice", whoami["accountId"]!.GetValue<string>());
    }

    [Fact]
    public async Task IframeToken_BoundToTheRequest_IsAccepted()
    {
        var site = await app.InstallSiteAsync();
        var token = SiteTokens.Request(site, "GET", "/api/whoami?lic=none&cp=%2Fjira", "557058:bob");
        var response = await app.Client().GetAsync("/api/whoami?lic=none&cp=%2Fjira&jwt=" + token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Reinstall_WithNewSecret_OldSecretStopsWorkingAtOnce()
    {
        var site = await app.InstallSiteAsync();
        var oldToken = SiteTokens.Context(site, "557058:a");
        var before = await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey);
        Assert.Equal(HttpStatusCode.OK, (await Get(oldToken)).StatusCode);

        await app.InstallAsync(site); // Jira sends a new shared secret
        var newToken = SiteTokens.Context(site, "557058:a");

        var rejected = await Get(oldToken);
        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
        Assert.Equal("jwt.invalid_signature", await Code(rejected));
        Assert.Equal(HttpStatusCode.OK, (await Get(newToken)).StatusCode);
        var after = await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey);
        Assert.Equal(before!.Id, after!.Id);
        Assert.NotEqual(Convert.ToHexString(before.SecretCiphertext), Convert.ToHexString(after.SecretCiphertext));
    }

    [Fact]
    public async Task Reinstall_ReplacesEveryFieldButClientKey()
    {
        var site = await app.InstallSiteAsync();
        site.BaseUrl = new Uri($"https://renamed-{site.Name}.atlassian.net");
        await app.InstallAsync(site);
        var row = await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey);
        Assert.Equal(site.BaseUrl.ToString().TrimEnd('/'), row!.BaseUrl);
    }

    [Fact]
    public async Task Uninstall_RejectsTokensAndKeepsTheFirstUninstallTime()
    {
        var site = await app.InstallSiteAsync();
        var token = SiteTokens.Context(site);
        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.UninstallAsync(app.Client(), site)).StatusCode);
        var first = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.UninstalledAt;
        Assert.NotNull(first);

        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.UninstallAsync(app.Client(), site)).StatusCode);
        Assert.Equal(first, (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.UninstalledAt);

        var rejected = await Get(token);
        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
        Assert.Equal("jwt.tenant_uninstalled", await Code(rejected));
    }

    [Fact]
    public async Task ReinstallAfterUninstall_RevivesTheTenant()
    {
        var site = await app.InstallSiteAsync();
        await app.Installer.UninstallAsync(app.Client(), site);
        await app.InstallAsync(site);
        var row = await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey);
        Assert.Null(row!.UninstalledAt);
        Assert.Equal(HttpStatusCode.OK, (await Get(SiteTokens.Context(site))).StatusCode);
    }

    [Fact]
    public async Task DisableThenEnable_FlipsTheFlag_AndDisabledTenantsTokensAreRefused()
    {
        var site = await app.InstallSiteAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.SetEnabledAsync(app.Client(), site, enabled: false)).StatusCode);
        Assert.False((await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Enabled);
        var refused = await Get(SiteTokens.Context(site));
        Assert.Equal("jwt.tenant_disabled", await Code(refused));

        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.SetEnabledAsync(app.Client(), site, enabled: false)).StatusCode); // repeated: idempotent
        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.SetEnabledAsync(app.Client(), site, enabled: true)).StatusCode);
        Assert.True((await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Enabled);
        Assert.Equal(HttpStatusCode.OK, (await Get(SiteTokens.Context(site))).StatusCode);
    }

    [Fact]
    public async Task Uninstall_OfUnknownSite_IsAcceptedAndStoresNothing()
    {
        var site = ConnectAppFixture.NewSite();
        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.UninstallAsync(app.Client(), site)).StatusCode);
        Assert.Null(await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey));
    }

    [Fact]
    public async Task ConcurrentInstalls_OfTheSameSite_LeaveOneTenant()
    {
        var site = ConnectAppFixture.NewSite();
        var attempts = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => app.Installer.InstallAsync(app.Client(), new SimulatedSite(site.Name, site.BaseUrl, site.ClientKey))));
        Assert.All(attempts, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
        Assert.NotNull(await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey));
        await using var connection = new Npgsql.NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM tenants WHERE client_key = @k", connection);
        count.Parameters.AddWithValue("k", site.ClientKey);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task DisabledAfterUninstall_DoesNotRevive()
    {
        var site = await app.InstallSiteAsync();
        var enableToken = SiteTokens.Request(site, "POST", "/enabled");
        await app.Installer.UninstallAsync(app.Client(), site);
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var late = await ConnectAppInstaller.SendAsync(app.Client(), "enabled", ConnectAppInstaller.Payload(site, descriptor.Key, "enabled"), enableToken);
        Assert.Equal(HttpStatusCode.Unauthorized, late.StatusCode);
        Assert.NotNull((await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.UninstalledAt);
    }

    private Task<HttpResponseMessage> Get(string token)
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new("JWT", token);
        return client.GetAsync("/api/whoami");
    }

    internal static async Task<string?> Code(HttpResponseMessage response)
    {
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body?["code"]?.GetValue<string>();
    }
}
