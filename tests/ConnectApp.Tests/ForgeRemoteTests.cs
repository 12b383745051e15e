using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.IdentityModel.Tokens;

namespace ConnectApp.Tests;

/// <summary>
/// The same /api serves Forge Remote calls (Forge Invocation Tokens) with the same roles, visibility and tenant
/// rules as Connect context tokens; a forged or misdirected invocation token is refused and changes nothing.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ForgeRemoteTests(ConnectAppFixture app)
{
    private HttpClient AsForge(SimulatedSite site, string? accountId, Func<ForgePlatform.Invocation, ForgePlatform.Invocation>? bend = null, bool withSystemToken = true)
    {
        var invocation = new ForgePlatform.Invocation(site, accountId);
        return WithFit(app.Forge.Mint(bend is null ? invocation : bend(invocation)), withSystemToken ? site.ForgeSystemToken : null);
    }

    private HttpClient WithFit(string token, string? systemToken)
    {
        TestLog.RecordSecret(token);
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (systemToken is not null)
        {
            TestLog.RecordSecret(systemToken);
            client.DefaultRequestHeaders.Add("x-forge-oauth-system", systemToken);
        }

        return client;
    }

    private async Task<(SimulatedSite Site, string OrgId, string ETag)> SiteWithOrganizationAsync()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "text", visibility = "customers-view" }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "secret_note", label = "Internal", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        using var created = await app.As(site, SiteRole.Agent).SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Acme", values = new { tier = "gold", secret_note = "agents only" } });
        var org = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        return (site, org["id"]!.GetValue<string>(), created.Headers.ETag!.ToString());
    }

    [Fact]
    public async Task InvocationToken_ReadsAndWritesTheSameData_AsTheContextToken_ForTheSameUser()
    {
        var (site, orgId, etag) = await SiteWithOrganizationAsync();
        const string agentId = "557058:forge-agent";
        site.AddUser(agentId, SiteRole.Agent);
        using var forge = AsForge(site, agentId);
        using var connect = app.AsContext(site, agentId);

        // Forge first: the role is asked through the API gateway with the app system token, not with a Connect JWT.
        var viaForge = await forge.GetAsync($"api/organizations/{orgId}").OkJsonAsync();
        Assert.Equal(1, site.ForgePermissionChecks);
        var viaConnect = await connect.GetAsync($"api/organizations/{orgId}").OkJsonAsync();
        Assert.Equal(viaConnect.ToJsonString(), viaForge.ToJsonString());
        Assert.Equal("agents only", viaForge["values"]!["secret_note"]!.GetValue<string>());

        var written = await forge.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{orgId}/values", new { values = new { tier = "platinum" } }, etag).OkJsonAsync();
        Assert.Equal("platinum", written["values"]!["tier"]!.GetValue<string>());
        var history = await connect.GetAsync($"api/organizations/{orgId}/history").OkJsonAsync();
        var change = history["entries"]!.AsArray().First(e => e!["action"]!.GetValue<string>() == "value.set" && e["newValue"]?.GetValue<string>() == "platinum")!;
        Assert.Equal(agentId, change["actor"]!.GetValue<string>()); // the same audit actor as a Connect call

        var whoami = await forge.GetAsync("api/whoami").OkJsonAsync();
        Assert.Equal(site.ClientKey, whoami["clientKey"]!.GetValue<string>());
        Assert.Equal(agentId, whoami["accountId"]!.GetValue<string>());
    }

    [Fact]
    public async Task InvocationToken_ForACustomer_SeesWhatTheContextTokenSees_AndNoAgentField()
    {
        var (site, orgId, _) = await SiteWithOrganizationAsync();
        const string customerId = "557058:forge-customer";
        await app.As(site, SiteRole.Agent).SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = customerId, name = "Cora", organizationIds = new[] { orgId } }).OkJsonAsync(HttpStatusCode.Created);
        using var forge = AsForge(site, customerId);
        using var connect = app.AsContext(site, customerId);

        var viaForge = await forge.GetAsync("api/portal/me").OkJsonAsync();
        var viaConnect = await connect.GetAsync("api/portal/me").OkJsonAsync();
        Assert.Equal(viaConnect.ToJsonString(), viaForge.ToJsonString());
        Assert.DoesNotContain("agents only", viaForge.ToJsonString(), StringComparison.Ordinal);
        await forge.GetAsync($"api/organizations/{orgId}").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task WithoutASystemToken_TheRoleIsAskedWithTheConnectJwt()
    {
        var (site, orgId, _) = await SiteWithOrganizationAsync();
        site.AddUser("557058:forge-agent-2", SiteRole.Agent);
        using var forge = AsForge(site, "557058:forge-agent-2", withSystemToken: false);
        await forge.GetAsync($"api/organizations/{orgId}").OkJsonAsync();
        Assert.Equal(0, site.ForgePermissionChecks);
    }

    [Fact]
    public async Task ForgedOrMisdirectedInvocationTokens_AreRefused_AndChangeNothing()
    {
        var (site, orgId, etag) = await SiteWithOrganizationAsync();
        const string agentId = "557058:forge-attacked";
        site.AddUser(agentId, SiteRole.Agent);
        var tenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        var before = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenant);

        async Task RefusedAsync(HttpClient client, HttpStatusCode status, string code)
        {
            using (client)
            {
                var problem = await client.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{orgId}/values", new { values = new { tier = "hijacked" } }, etag).ProblemAsync(status, code);
                Assert.Equal("urn:connectapp:problem:" + code, problem["type"]!.GetValue<string>());
            }

            Assert.Equal(before, await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenant));
        }

        var now = DateTimeOffset.UtcNow;
        await RefusedAsync(AsForge(site, agentId, i => i with { AppId = Guid.NewGuid().ToString() }), HttpStatusCode.Unauthorized, "fit.wrong_audience");
        await RefusedAsync(AsForge(site, agentId, i => i with { Issuer = "forge/not-invocation" }), HttpStatusCode.Unauthorized, "fit.wrong_issuer");
        await RefusedAsync(AsForge(site, agentId, i => i with { IssuedAt = now.AddMinutes(-10) }), HttpStatusCode.Unauthorized, "fit.expired");
        await RefusedAsync(AsForge(site, agentId, i => i with { NotBefore = now.AddMinutes(5), Lifetime = TimeSpan.FromMinutes(10) }), HttpStatusCode.Unauthorized, "fit.not_yet_valid");
        await RefusedAsync(AsForge(site, agentId, i => i with { InstallationId = "ari:cloud:ecosystem::installation/" + Guid.NewGuid() }), HttpStatusCode.Unauthorized, "fit.unknown_installation");

        // An unknown kid makes the app read the JWKS once more (a rotation is picked up), then refuse; a second
        // unknown kid within the minute costs no further read.
        var fetches = app.Forge.JwksFetches;
        await RefusedAsync(AsForge(site, agentId, i => i with { Kid = "forge-sim-rotated-away" }), HttpStatusCode.Unauthorized, "fit.unknown_kid");
        Assert.Equal(fetches + 1, app.Forge.JwksFetches);
        await RefusedAsync(AsForge(site, agentId, i => i with { Kid = "forge-sim-forged" }), HttpStatusCode.Unauthorized, "fit.unknown_kid");
        Assert.Equal(fetches + 1, app.Forge.JwksFetches);

        // alg none, and HS256 keyed with the JWKS public key (algorithm confusion).
        var valid = app.Forge.Mint(new ForgePlatform.Invocation(site, agentId));
        var payload = valid.Split('.')[1];
        await RefusedAsync(WithFit(Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""") + "." + payload + ".", site.ForgeSystemToken), HttpStatusCode.Unauthorized, "fit.algorithm_not_allowed");
        var hsInput = Base64UrlEncoder.Encode($$"""{"alg":"HS256","typ":"JWT","kid":"{{app.Forge.Kid}}"}""") + "." + payload;
        var hs = hsInput + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(app.Forge.PublicKeyBytes(), Encoding.ASCII.GetBytes(hsInput)));
        await RefusedAsync(WithFit(hs, site.ForgeSystemToken), HttpStatusCode.Unauthorized, "fit.algorithm_not_allowed");

        // A valid token whose payload was edited (another principal) no longer verifies.
        var parts = valid.Split('.');
        var edited = JsonNode.Parse(Base64UrlEncoder.Decode(parts[1]))!;
        edited["principal"] = "557058:someone-else";
        await RefusedAsync(WithFit(parts[0] + "." + Base64UrlEncoder.Encode(edited.ToJsonString()) + "." + parts[2], site.ForgeSystemToken), HttpStatusCode.Unauthorized, "fit.invalid_signature");

        // apiBaseUrl must be an Atlassian API gateway: the app would send its system token there.
        var gateway = site.ApiBaseUrl;
        site.ApiBaseUrl = new Uri("https://api.attacker.example/ex/jira/" + site.CloudId);
        await RefusedAsync(AsForge(site, agentId), HttpStatusCode.Unauthorized, "fit.api_base_url_not_allowed");
        site.ApiBaseUrl = gateway;

        // Another site's valid token reaches only that site's data.
        var other = await app.InstallSiteAsync();
        other.AddUser(agentId, SiteRole.Agent);
        await RefusedAsync(AsForge(other, agentId), HttpStatusCode.NotFound, "not_found");

        // A site that uninstalled the app: its installation's tokens are refused.
        var gone = await app.InstallSiteAsync();
        using (var uninstalled = await app.Installer.UninstallAsync(app.Client(), gone))
        {
            Assert.Equal(HttpStatusCode.NoContent, uninstalled.StatusCode);
        }

        gone.AddUser(agentId, SiteRole.Agent);
        await RefusedAsync(AsForge(gone, agentId), HttpStatusCode.Unauthorized, "fit.tenant_uninstalled");

        // And the untouched token still works: the refusals were about the tokens, not the caller.
        using var ok = AsForge(site, agentId);
        await ok.GetAsync($"api/organizations/{orgId}").OkJsonAsync();
    }
}
