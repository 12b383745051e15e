using System.Net;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using static ConnectApp.Tests.Infrastructure.SyncTesting;

namespace ConnectApp.Tests;

/// <summary>
/// Membership edits made in the app reach the site's JSM (through the outbox, RabbitMQ and the worker), each with its
/// own write-back report: done, failed with JSM's reason (and retried by an admin), not in JSM for app-only records.
/// A directory sync never undoes a change that has not reached JSM yet.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class MembershipWriteBackTests(ConnectAppFixture app)
{
    private async Task<(SimulatedSite Site, HttpClient Admin, HttpClient Agent)> SyncedSiteAsync(int organizations, int customers)
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations, customers);
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        Assert.Equal("succeeded", (await WaitForLatestAsync(admin))["status"]!.GetValue<string>());
        return (site, admin, app.As(site, SiteRole.Agent));
    }

    /// <summary>Generated customers of the site (seed 9) that are not members of the organization in JSM.</summary>
    private static List<string> NonMembers(SimulatedSite site, string organizationJsmId) =>
        Enumerable.Range(0, site.Directory.CustomerCount)
            .Select(i => $"557058:gen9-{i:D7}").Where(a => !site.Directory.MembersOf(organizationJsmId).Contains(a)).ToList();

    [Fact]
    public async Task AddAndRemove_ReachTheSitesJsm_AreAudited_AndReportedDone()
    {
        var (site, admin, agent) = await SyncedSiteAsync(3, 30);
        var org = site.Directory.Organizations[0];
        var accountId = NonMembers(site, org.Id)[0];
        var orgId = await RecordIdAsync(app, site, org.Id);
        var customerId = await RecordIdAsync(app, site, accountId);

        var added = await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{orgId}/members/{customerId}", null).OkJsonAsync();
        Assert.True(added["changed"]!.GetValue<bool>());
        Assert.Equal("pending", added["writeBack"]!["state"]!.GetValue<string>());
        var report = await SettledWriteBacksAsync(admin);
        var done = Assert.Single(report);
        Assert.Equal("done", done["state"]!.GetValue<string>());
        Assert.Equal("add", done["operation"]!.GetValue<string>());
        Assert.Equal(accountId, done["accountId"]!.GetValue<string>());
        Assert.Equal(1, done["attempts"]!.GetValue<int>());
        Assert.Contains(accountId, site.Directory.MembersOf(org.Id));
        Assert.Contains((accountId, org.Id), await MembershipsAsync(app, site));
        var customer = await agent.GetAsync($"api/customers/{customerId}").OkJsonAsync();
        Assert.Contains(orgId.ToString(), customer["organizationIds"]!.AsArray().Select(o => o!.GetValue<string>()));
        Assert.Equal(1, await app.CountAuditAsync(site, "membership.added"));

        // The same again changes nothing and sends nothing.
        var again = await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{orgId}/members/{customerId}", null).OkJsonAsync();
        Assert.False(again["changed"]!.GetValue<bool>());
        Assert.Null(again["writeBack"]);

        var removed = await agent.SendJsonAsync(HttpMethod.Delete, $"api/organizations/{orgId}/members/{customerId}", null).OkJsonAsync();
        Assert.True(removed["changed"]!.GetValue<bool>());
        report = await SettledWriteBacksAsync(admin);
        Assert.Equal(2, report.Count);
        Assert.Equal("remove", report[0]["operation"]!.GetValue<string>()); // newest first
        Assert.Equal("done", report[0]["state"]!.GetValue<string>());
        Assert.DoesNotContain(accountId, site.Directory.MembersOf(org.Id));
        Assert.DoesNotContain((accountId, org.Id), await MembershipsAsync(app, site));
        Assert.Equal(1, await app.CountAuditAsync(site, "membership.removed"));
        Assert.Equal(["POST", "DELETE"], site.MembershipEdits.Select(e => e.Method));

        // Unknown records: 404, and nothing is written.
        await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{Guid.NewGuid()}/members/{customerId}", null).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{orgId}/members/{orgId}", null).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await app.As(site, SiteRole.Customer).SendJsonAsync(HttpMethod.Put, $"api/organizations/{orgId}/members/{customerId}", null).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await agent.GetAsync("api/admin/writeback").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await admin.GetAsync("api/admin/writeback?state=sideways").ProblemAsync(HttpStatusCode.BadRequest, "bad_request");
        Assert.Equal(2, (await WriteBacksAsync(admin)).Count);
    }

    [Fact]
    public async Task AFailingOrganization_IsReportedPerRecord_SurvivesASync_AndARetrySucceeds()
    {
        var (site, admin, agent) = await SyncedSiteAsync(3, 40);
        var failing = site.Directory.Organizations[1];
        var working = site.Directory.Organizations[2];
        site.MembershipEditFailures[failing.Id] = 403;
        var failingId = await RecordIdAsync(app, site, failing.Id);
        var workingId = await RecordIdAsync(app, site, working.Id);
        var toFailing = NonMembers(site, failing.Id).Take(2).ToList();
        var toWorking = NonMembers(site, working.Id)[0];
        foreach (var accountId in toFailing)
        {
            await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{failingId}/members/{await RecordIdAsync(app, site, accountId)}", null).OkJsonAsync();
        }

        await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{workingId}/members/{await RecordIdAsync(app, site, toWorking)}", null).OkJsonAsync();

        var report = await SettledWriteBacksAsync(admin);
        var failed = await WriteBacksAsync(admin, "state=failed");
        Assert.Equal(toFailing.Order(), failed.Select(f => f["accountId"]!.GetValue<string>()).Order());
        Assert.All(failed, f => Assert.Contains("403", f["reason"]!.GetValue<string>(), StringComparison.Ordinal));
        Assert.All(failed, f => Assert.Equal(failing.Id, f["organizationJsmId"]!.GetValue<string>()));
        Assert.Equal("done", Assert.Single(report, r => r["accountId"]!.GetValue<string>() == toWorking)["state"]!.GetValue<string>());
        var perOrganization = (await admin.GetAsync("api/admin/writeback/organizations").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray();
        var failingRow = perOrganization.Single(o => o!["organizationId"]!.GetValue<string>() == failingId.ToString())!;
        Assert.Equal(2, failingRow["failed"]!.GetValue<int>());
        Assert.Equal(0, failingRow["done"]!.GetValue<int>());
        Assert.Equal(1, perOrganization.Single(o => o!["organizationId"]!.GetValue<string>() == workingId.ToString())!["done"]!.GetValue<int>());
        Assert.All(toFailing, a => Assert.DoesNotContain(a, site.Directory.MembersOf(failing.Id)));

        // A sync reads JSM without them: the app's change stands while its write-back is unresolved.
        Assert.Equal("succeeded", (await SyncAsync(admin))["status"]!.GetValue<string>());
        var stored = await MembershipsAsync(app, site);
        Assert.All(toFailing, a => Assert.Contains((a, failing.Id), stored));

        // JSM takes them again; the admin retries the organization's failed ones.
        site.MembershipEditFailures.TryRemove(failing.Id, out _);
        var retried = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/writeback/retry", new { organizationId = failingId }).OkJsonAsync();
        Assert.Equal(2, retried["retried"]!.GetValue<int>());
        report = await SettledWriteBacksAsync(admin);
        Assert.All(report, r => Assert.Equal("done", r["state"]!.GetValue<string>()));
        Assert.All(toFailing, a => Assert.Contains(a, site.Directory.MembersOf(failing.Id)));
        Assert.All(report.Where(r => toFailing.Contains(r["accountId"]!.GetValue<string>())), r => Assert.Equal(2, r["attempts"]!.GetValue<int>()));
        Assert.Equal(0, (await admin.SendJsonAsync(HttpMethod.Post, "api/admin/writeback/retry", new { }).OkJsonAsync())["retried"]!.GetValue<int>());
    }

    [Fact]
    public async Task ASyncWhileAnAddWaitsOutJsms429s_DoesNotUndoIt_AndTheAddLandsAfterwards()
    {
        var (site, admin, agent) = await SyncedSiteAsync(2, 20);
        var org = site.Directory.Organizations[0];
        var accountId = NonMembers(site, org.Id)[0];
        site.MembershipEditFailures[org.Id] = 429; // Retry-After: 1, again and again: the write-back stays pending
        await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{await RecordIdAsync(app, site, org.Id)}/members/{await RecordIdAsync(app, site, accountId)}", null).OkJsonAsync();
        await Task.Delay(1500);
        Assert.Equal("pending", Assert.Single(await WriteBacksAsync(admin))["state"]!.GetValue<string>());

        Assert.Equal("succeeded", (await SyncAsync(admin))["status"]!.GetValue<string>());
        Assert.Contains((accountId, org.Id), await MembershipsAsync(app, site));
        Assert.DoesNotContain(accountId, site.Directory.MembersOf(org.Id));

        site.MembershipEditFailures.TryRemove(org.Id, out _);
        var done = Assert.Single(await SettledWriteBacksAsync(admin));
        Assert.Equal("done", done["state"]!.GetValue<string>());
        Assert.Contains(accountId, site.Directory.MembersOf(org.Id));
        Assert.Equal("succeeded", (await SyncAsync(admin))["status"]!.GetValue<string>());
        Assert.Contains((accountId, org.Id), await MembershipsAsync(app, site));
    }

    [Fact]
    public async Task BulkMemberships_AreWrittenBackInCallsOfAtMost50_AndAnAccountJsmRefuses_FailsAlone()
    {
        var (site, admin, agent) = await SyncedSiteAsync(2, 200);
        var org = site.Directory.Organizations[0];
        var other = site.Directory.Organizations[1];
        var orgId = await RecordIdAsync(app, site, org.Id);
        var otherId = await RecordIdAsync(app, site, other.Id);
        var toAdd = NonMembers(site, org.Id).Take(60).ToList();
        var toRemove = site.Directory.MembersOf(other.Id).Take(5).ToList();
        var gone = toAdd[7];
        site.Directory.RemoveCustomer(gone); // JSM no longer knows it; the app does until the next sync

        var pairs = new List<object>();
        foreach (var a in toAdd)
        {
            pairs.Add(new { customerId = await RecordIdAsync(app, site, a), organizationId = orgId });
        }

        var removals = new List<object>();
        foreach (var a in toRemove)
        {
            removals.Add(new { customerId = await RecordIdAsync(app, site, a), organizationId = otherId });
        }

        // Refused as a whole, changing nothing.
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        var before = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId);
        await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/memberships", new { add = Array.Empty<object>() }).ProblemAsync(HttpStatusCode.BadRequest, "membership.bulk_size");
        await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/memberships", new { add = pairs.Take(2), remove = pairs.Take(1) }).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/memberships", new { add = pairs.Append(new { customerId = Guid.NewGuid(), organizationId = orgId }) }).ProblemAsync(HttpStatusCode.NotFound, "bulk.records_not_found");
        Assert.Equal(before, await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId));

        var result = await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/memberships", new { add = pairs, remove = removals }).OkJsonAsync();
        Assert.Equal(60, toAdd.Count);
        Assert.Equal(60, result["added"]!.GetValue<int>());
        Assert.Equal(5, result["removed"]!.GetValue<int>());
        Assert.Equal(65, result["results"]!.AsArray().Count);

        var report = await SettledWriteBacksAsync(admin);
        var failed = Assert.Single(report, r => r["state"]!.GetValue<string>() == "failed");
        Assert.Equal(gone, failed["accountId"]!.GetValue<string>());
        Assert.Contains("400", failed["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(64, report.Count(r => r["state"]!.GetValue<string>() == "done"));
        Assert.All(toAdd.Where(a => a != gone), a => Assert.Contains(a, site.Directory.MembersOf(org.Id)));
        Assert.All(toRemove, a => Assert.DoesNotContain(a, site.Directory.MembersOf(other.Id)));
        Assert.All(site.MembershipEdits, e => Assert.InRange(e.AccountIds.Count, 1, 50));
        Assert.Equal(65, await app.CountAuditAsync(site, "membership.added") + await app.CountAuditAsync(site, "membership.removed"));
    }

    [Fact]
    public async Task RecordsMadeInTheAppOnly_AreReportedNotInJsm_AndNothingIsSent()
    {
        var (site, admin, agent) = await SyncedSiteAsync(1, 3);
        var appOrg = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "app-only-org", name = "App only" }).OkJsonAsync(HttpStatusCode.Created);
        var appCustomer = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = "557058:app-only", name = "App Only" }).OkJsonAsync(HttpStatusCode.Created);
        var jsmOrgId = await RecordIdAsync(app, site, site.Directory.Organizations[0].Id);

        var one = await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{appOrg["id"]}/members/{await RecordIdAsync(app, site, "557058:gen9-0000001")}", null).OkJsonAsync();
        var two = await agent.SendJsonAsync(HttpMethod.Put, $"api/organizations/{jsmOrgId}/members/{appCustomer["id"]}", null).OkJsonAsync();
        Assert.Equal("not-in-jsm", one["writeBack"]!["state"]!.GetValue<string>());
        Assert.Contains("organization was made in the app", one["writeBack"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("not-in-jsm", two["writeBack"]!["state"]!.GetValue<string>());
        Assert.Contains("customer was made in the app", two["writeBack"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, (await WriteBacksAsync(admin, "state=not-in-jsm")).Count);
        await Task.Delay(500);
        Assert.Empty(site.MembershipEdits);
    }
}
