using System.Net;
using System.Net.Http.Json;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using static ConnectApp.Tests.Infrastructure.SyncTesting;

namespace ConnectApp.Tests;

/// <summary>
/// Membership write-backs an agent made reach JSM as that agent (act-as-user: the OAuth 2.0 JWT bearer grant against
/// the simulator's authorization server, which checks the assertion exactly), so JSM's own audit shows the agent.
/// Tokens are cached per agent; a refused grant fails that agent's records with the reason (never sent as the app);
/// changes of nobody in particular, and sites without an OAuth client, go as the app. No assertion or token is logged.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ActAsUserTests(ConnectAppFixture app)
{
    private async Task<(SimulatedSite Site, HttpClient Admin)> SyncedSiteAsync(Action<SimulatedSite>? setUp = null)
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(3, 40);
        setUp?.Invoke(site);
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        Assert.Equal("succeeded", (await WaitForLatestAsync(admin))["status"]!.GetValue<string>());
        return (site, admin);
    }

    private static List<string> NonMembers(SimulatedSite site, string organizationJsmId) =>
        Enumerable.Range(0, site.Directory.CustomerCount)
            .Select(i => $"557058:gen9-{i:D7}").Where(a => !site.Directory.MembersOf(organizationJsmId).Contains(a)).ToList();

    private async Task<HttpResponseMessage> AddAsync(HttpClient agent, SimulatedSite site, string organizationJsmId, string accountId) =>
        await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{await RecordIdAsync(app, site, organizationJsmId)}/members/{await RecordIdAsync(app, site, accountId)}", null);

    private static void AssertNoSecretInTheLog(SimulatedSite site)
    {
        var log = TestLog.Read();
        var secrets = site.ActAsUser.Secrets.ToList();
        Assert.NotEmpty(secrets);
        foreach (var secret in secrets)
        {
            TestLog.RecordSecret(secret); // scripts/check-log-hygiene.sh greps every log for them too
            Assert.DoesNotContain(secret, log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnAgentsAddsAndRemoval_ReachJsmAsThatAgent_WithOneGrantForThemAll()
    {
        var (site, admin) = await SyncedSiteAsync();
        const string agentId = "557058:agent-actas-1";
        var agent = app.As(site, SiteRole.Agent, agentId);
        var (org, other) = (site.Directory.Organizations[0], site.Directory.Organizations[1]);
        var toOrg = NonMembers(site, org.Id).Take(3).ToList();
        foreach (var accountId in toOrg)
        {
            await AddAsync(agent, site, org.Id, accountId).OkJsonAsync();
        }

        await AddAsync(agent, site, other.Id, NonMembers(site, other.Id)[0]).OkJsonAsync();
        await SettledWriteBacksAsync(admin);
        var member = site.Directory.MembersOf(other.Id)[0];
        await agent.SendJsonAsync(HttpMethod.Delete, $"api/organizations/{await RecordIdAsync(app, site, other.Id)}/members/{await RecordIdAsync(app, site, member)}", null).OkJsonAsync();

        var report = await SettledWriteBacksAsync(admin);
        Assert.Equal(5, report.Count);
        Assert.All(report, r => Assert.Equal("done", r["state"]!.GetValue<string>()));
        Assert.All(report, r => Assert.Equal(agentId, r["actor"]!.GetValue<string>())); // the row says who made the change
        Assert.All(toOrg, a => Assert.Contains(a, site.Directory.MembersOf(org.Id)));
        Assert.DoesNotContain(member, site.Directory.MembersOf(other.Id));
        Assert.NotEmpty(site.MembershipEdits);
        Assert.All(site.MembershipEdits, e => Assert.Equal(agentId, e.Actor)); // JSM's audit: the agent, not the app
        Assert.Contains(site.MembershipEdits, e => e.Method == "DELETE");
        Assert.Equal(1, site.ActAsUser.Granted); // cached: one grant for every write-back of the agent
        AssertNoSecretInTheLog(site);
    }

    [Fact]
    public async Task AnExpiredOrRevokedToken_IsReplacedByANewGrant()
    {
        var (site, admin) = await SyncedSiteAsync(s => s.ActAsUser.Lifetime = TimeSpan.FromSeconds(2));
        const string agentId = "557058:agent-actas-2";
        var agent = app.As(site, SiteRole.Agent, agentId);
        var org = site.Directory.Organizations[0];
        var candidates = NonMembers(site, org.Id);

        await AddAsync(agent, site, org.Id, candidates[0]).OkJsonAsync();
        await SettledWriteBacksAsync(admin);
        Assert.Equal(1, site.ActAsUser.Granted);

        await Task.Delay(TimeSpan.FromSeconds(2.5)); // the token has expired (and the app stopped using it a second before)
        site.ActAsUser.Lifetime = TimeSpan.FromMinutes(15);
        await AddAsync(agent, site, org.Id, candidates[1]).OkJsonAsync();
        await SettledWriteBacksAsync(admin);
        Assert.Equal(2, site.ActAsUser.Granted);

        // Revoked early: the site answers 401 to the cached token; the app asks for a new one and the change lands.
        site.ActAsUser.RevokeAll();
        await AddAsync(agent, site, org.Id, candidates[2]).OkJsonAsync();
        var report = await SettledWriteBacksAsync(admin);
        Assert.Equal(3, site.ActAsUser.Granted);
        Assert.All(report, r => Assert.Equal("done", r["state"]!.GetValue<string>()));
        Assert.All(candidates.Take(3), a => Assert.Contains(a, site.Directory.MembersOf(org.Id)));
        Assert.All(site.MembershipEdits, e => Assert.Equal(agentId, e.Actor));
        AssertNoSecretInTheLog(site);
    }

    [Fact]
    public async Task ARefusedGrant_FailsThatAgentsRecordsWithTheReason_OthersAreDone_AndARetryLandsAsTheAgent()
    {
        var (site, admin) = await SyncedSiteAsync();
        const string refusedId = "557058:agent-actas-refused";
        const string otherId = "557058:agent-actas-other";
        var refused = app.As(site, SiteRole.Agent, refusedId);
        var other = app.As(site, SiteRole.Agent, otherId);
        site.ActAsUser.RefuseAccounts[refusedId] = 400;
        var org = site.Directory.Organizations[0];
        var candidates = NonMembers(site, org.Id);
        await AddAsync(refused, site, org.Id, candidates[0]).OkJsonAsync();
        await AddAsync(refused, site, org.Id, candidates[1]).OkJsonAsync();
        await AddAsync(other, site, org.Id, candidates[2]).OkJsonAsync();

        var report = await SettledWriteBacksAsync(admin);
        var failed = report.Where(r => r["state"]!.GetValue<string>() == "failed").ToList();
        Assert.Equal(candidates.Take(2).Order(), failed.Select(f => f["accountId"]!.GetValue<string>()).Order());
        Assert.All(failed, f => Assert.Equal(refusedId, f["actor"]!.GetValue<string>()));
        Assert.All(failed, f => Assert.Contains("refused to let the app act as the agent", f["reason"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.All(failed, f => Assert.Contains("invalid_grant", f["reason"]!.GetValue<string>(), StringComparison.Ordinal));
        var done = Assert.Single(report, r => r["state"]!.GetValue<string>() == "done");
        Assert.Equal(candidates[2], done["accountId"]!.GetValue<string>());
        Assert.Equal([otherId], site.MembershipEdits.Select(e => e.Actor).Distinct()); // never sent as the app instead
        Assert.DoesNotContain(candidates[0], site.Directory.MembersOf(org.Id));

        // A sync keeps the failed changes in the app; the agent's access comes back; an admin retries: as the agent.
        Assert.Equal("succeeded", (await SyncAsync(admin))["status"]!.GetValue<string>());
        Assert.Contains((candidates[0], org.Id), await MembershipsAsync(app, site));
        site.ActAsUser.RefuseAccounts.TryRemove(refusedId, out _);
        var retried = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/writeback/retry", new { }).OkJsonAsync();
        Assert.Equal(2, retried["retried"]!.GetValue<int>());
        Assert.All(await SettledWriteBacksAsync(admin), r => Assert.Equal("done", r["state"]!.GetValue<string>()));
        Assert.All(candidates.Take(3), a => Assert.Contains(a, site.Directory.MembersOf(org.Id)));
        Assert.Contains(site.MembershipEdits, e => e.Actor == refusedId && e.AccountIds.Contains(candidates[0]));
    }

    [Fact]
    public async Task AnAgentDemotedBeforeTheWriteBack_IsRefusedByJsm_WithTheirOwnPermissions()
    {
        var (site, admin) = await SyncedSiteAsync();
        const string agentId = "557058:agent-actas-demoted";
        var agent = app.As(site, SiteRole.Agent, agentId);
        var org = site.Directory.Organizations[0];
        site.MembershipEditFailures[org.Id] = 429; // JSM busy: the write-back waits
        await AddAsync(agent, site, org.Id, NonMembers(site, org.Id)[0]).OkJsonAsync();
        site.AddUser(agentId, SiteRole.Customer); // meanwhile no longer an agent in JSM
        site.MembershipEditFailures.TryRemove(org.Id, out _);

        var failed = Assert.Single(await SettledWriteBacksAsync(admin));
        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        Assert.Contains("403", failed["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(site.MembershipEdits);
    }

    [Fact]
    public async Task TheTokenEndpointsTooManyRequests_IsWaitedOut()
    {
        var (site, admin) = await SyncedSiteAsync();
        const string agentId = "557058:agent-actas-throttled";
        var agent = app.As(site, SiteRole.Agent, agentId);
        var org = site.Directory.Organizations[0];
        site.ActAsUser.Throttle = 2; // 429, Retry-After: 1, twice
        await AddAsync(agent, site, org.Id, NonMembers(site, org.Id)[0]).OkJsonAsync();

        Assert.Equal("done", Assert.Single(await SettledWriteBacksAsync(admin))["state"]!.GetValue<string>());
        Assert.Equal(0, site.ActAsUser.Throttle);
        Assert.Equal(1, site.ActAsUser.Granted);
        Assert.Equal(agentId, Assert.Single(site.MembershipEdits).Actor);
    }

    [Fact]
    public async Task RuleAndSyncChanges_AndSitesWithoutAnOAuthClient_GoAsTheApp()
    {
        // An email-domain rule's additions: nobody in particular made them.
        var (site, admin) = await SyncedSiteAsync(s => s.Directory.AddCustomer("557058:actas-ann", "Ann", "ann@actas.example"));
        var org = site.Directory.Organizations[0];
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "actas.example", organizationId = await RecordIdAsync(app, site, org.Id) }).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal(1, (await admin.PostAsync("api/admin/email-rules/apply", null).OkJsonAsync())["added"]!.GetValue<int>());
        var ruled = Assert.Single(await SettledWriteBacksAsync(admin));
        Assert.Equal("done", ruled["state"]!.GetValue<string>());
        Assert.Equal("system:email-rules", ruled["actor"]!.GetValue<string>());
        Assert.Equal(MembershipEdit.App, Assert.Single(site.MembershipEdits).Actor);

        // The sync's rule pass for a customer new in JSM: as the app too.
        site.Directory.AddCustomer("557058:actas-bob", "Bob", "bob@actas.example");
        Assert.Equal("succeeded", (await SyncAsync(admin))["status"]!.GetValue<string>());
        await SettledWriteBacksAsync(admin);
        Assert.Contains("557058:actas-bob", site.Directory.MembersOf(org.Id));
        Assert.All(site.MembershipEdits, e => Assert.Equal(MembershipEdit.App, e.Actor));
        Assert.Equal(0, site.ActAsUser.Granted);

        // A site that sent no oauthClientId: an agent's change goes as the app (there is no way to act as anyone).
        var (plain, plainAdmin) = await SyncedSiteAsync(s => s.OauthClientId = null);
        var agent = app.As(plain, SiteRole.Agent);
        var plainOrg = plain.Directory.Organizations[0];
        await AddAsync(agent, plain, plainOrg.Id, NonMembers(plain, plainOrg.Id)[0]).OkJsonAsync();
        Assert.Equal("done", Assert.Single(await SettledWriteBacksAsync(plainAdmin))["state"]!.GetValue<string>());
        Assert.Equal(MembershipEdit.App, Assert.Single(plain.MembershipEdits).Actor);
        Assert.Equal(0, plain.ActAsUser.Granted);
    }

    [Fact]
    public async Task TheSimulatorsAuthorizationServer_ChecksTheAssertionExactly_AndItsTokensActAsTheUser()
    {
        var (site, _) = await SyncedSiteAsync();
        const string agentId = "557058:agent-actas-direct";
        site.AddUser(agentId, SiteRole.Agent);
        using var client = app.Simulator.CreateClient();
        var now = DateTimeOffset.UtcNow;
        Dictionary<string, object> Claims(Action<Dictionary<string, object>>? change = null)
        {
            var claims = new Dictionary<string, object>
            {
                ["iss"] = "urn:atlassian:connect:clientid:" + site.OauthClientId,
                ["sub"] = "urn:atlassian:connect:useraccountid:" + agentId,
                ["tnt"] = site.BaseUrl.ToString().TrimEnd('/'),
                ["aud"] = "http://simulator",
                ["iat"] = now.ToUnixTimeSeconds(),
                ["exp"] = now.AddSeconds(60).ToUnixTimeSeconds(),
            };
            change?.Invoke(claims);
            return claims;
        }

        async Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonObject Body)> GrantAsync(Dictionary<string, object> claims, string? secret = null, string grantType = "urn:ietf:params:oauth:grant-type:jwt-bearer", string scope = "READ WRITE")
        {
            using var response = await client.PostAsync("http://simulator/oauth2/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = grantType,
                ["assertion"] = AtlassianConnect.ConnectJwt.CreateSymmetric(claims, secret ?? site.SharedSecret!),
                ["scope"] = scope,
            }));
            return (response.StatusCode, (await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!);
        }

        var refusals = new (string Case, Task<(HttpStatusCode Status, System.Text.Json.Nodes.JsonObject Body)> Answer, string Error)[]
        {
            ("wrong secret", GrantAsync(Claims(), secret: "not-the-sites-secret"), "invalid_grant"),
            ("wrong iss", GrantAsync(Claims(c => c["iss"] = "urn:atlassian:connect:clientid:someone-else")), "invalid_grant"),
            ("userkey sub", GrantAsync(Claims(c => c["sub"] = "urn:atlassian:connect:userkey:" + agentId)), "invalid_grant"),
            ("unknown user", GrantAsync(Claims(c => c["sub"] = "urn:atlassian:connect:useraccountid:557058:nobody")), "invalid_grant"),
            ("wrong aud", GrantAsync(Claims(c => c["aud"] = "https://oauth-2-authorization-server.services.atlassian.com")), "invalid_grant"),
            ("expired", GrantAsync(Claims(c => (c["iat"], c["exp"]) = (now.AddMinutes(-5).ToUnixTimeSeconds(), now.AddMinutes(-4).ToUnixTimeSeconds()))), "invalid_grant"),
            ("too long", GrantAsync(Claims(c => c["exp"] = now.AddMinutes(10).ToUnixTimeSeconds())), "invalid_grant"),
            ("grant type", GrantAsync(Claims(), grantType: "client_credentials"), "unsupported_grant_type"),
            ("scope not held", GrantAsync(Claims(), scope: "READ ADMIN"), "invalid_scope"),
        };
        foreach (var (name, answer, error) in refusals)
        {
            var (status, body) = await answer;
            Assert.True(status == HttpStatusCode.BadRequest, name);
            Assert.True(body["error"]!.GetValue<string>() == error, $"{name}: {body}");
        }

        Assert.Equal(0, site.ActAsUser.Granted);
        var (ok, granted) = await GrantAsync(Claims());
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal("Bearer", granted["token_type"]!.GetValue<string>());
        Assert.True(granted["expires_in"]!.GetValue<int>() > 60);
        var token = granted["access_token"]!.GetValue<string>();
        TestLog.RecordSecret(token);

        var members = $"{site.BaseUrl.ToString().TrimEnd('/')}/rest/servicedeskapi/organization/{site.Directory.Organizations[0].Id}/user";
        using (var asUser = new HttpRequestMessage(HttpMethod.Get, members))
        {
            asUser.Headers.Authorization = new("Bearer", token);
            Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(asUser)).StatusCode);
        }

        using (var unknown = new HttpRequestMessage(HttpMethod.Get, members))
        {
            unknown.Headers.Authorization = new("Bearer", "sim-at-0000");
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(unknown)).StatusCode);
        }
    }
}
