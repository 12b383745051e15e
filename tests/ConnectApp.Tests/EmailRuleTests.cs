using System.Net;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using static ConnectApp.Tests.Infrastructure.SyncTesting;

namespace ConnectApp.Tests;

/// <summary>
/// Email-domain rules: validated CRUD, a dry run that changes nothing, and applying them (now, after a sync, to a
/// customer created in the app) through the membership path — written back to JSM, each addition audited with its rule.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class EmailRuleTests(ConnectAppFixture app)
{
    [Fact]
    public async Task Rules_AreValidated_WithCodedProblems_AndAudited()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 2, customers: 2);
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        await WaitForLatestAsync(admin);
        var orgId = await RecordIdAsync(app, site, site.Directory.Organizations[0].Id);
        var otherId = await RecordIdAsync(app, site, site.Directory.Organizations[1].Id);
        var customerId = await RecordIdAsync(app, site, "557058:gen9-0000000");
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        var before = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId);

        foreach (var bad in new[] { "acme", "*.", "*.com.", "-acme.com", "acme-.com", "a..com", "acme.com/x", "user@acme.com", "*acme.com", "acme.*.com", "acme.123", "", " ", new string('a', 64) + ".com" })
        {
            await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = bad, organizationId = orgId }).ProblemAsync(HttpStatusCode.BadRequest, "email_rule.domain");
        }

        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "acme.com" }).ProblemAsync(HttpStatusCode.BadRequest, "email_rule.organization");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "acme.com", organizationId = Guid.NewGuid() }).ProblemAsync(HttpStatusCode.BadRequest, "email_rule.organization");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "acme.com", organizationId = customerId }).ProblemAsync(HttpStatusCode.BadRequest, "email_rule.organization");
        await app.As(site, SiteRole.Agent).SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "acme.com", organizationId = orgId }).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(before, await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId)); // refusals change nothing

        var rule = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = " ACME.com ", organizationId = orgId }).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("acme.com", rule["domain"]!.GetValue<string>());
        Assert.False(rule["wildcard"]!.GetValue<bool>());
        var wildcard = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "*.acme.co.uk", organizationId = orgId }).OkJsonAsync(HttpStatusCode.Created);
        Assert.True(wildcard["wildcard"]!.GetValue<bool>());
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "acme.com", organizationId = orgId }).ProblemAsync(HttpStatusCode.Conflict, "email_rule.duplicate");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "acme.com", organizationId = otherId }).OkJsonAsync(HttpStatusCode.Created); // the same domain to another organization
        await admin.SendJsonAsync(HttpMethod.Put, $"api/admin/email-rules/{wildcard["id"]}", new { domain = "acme.com", organizationId = orgId }).ProblemAsync(HttpStatusCode.Conflict, "email_rule.duplicate");
        await admin.SendJsonAsync(HttpMethod.Put, $"api/admin/email-rules/{Guid.NewGuid()}", new { domain = "x.com", organizationId = orgId }).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        var moved = await admin.SendJsonAsync(HttpMethod.Put, $"api/admin/email-rules/{wildcard["id"]}", new { domain = "*.acme.de", organizationId = otherId }).OkJsonAsync();
        Assert.Equal("*.acme.de", moved["domain"]!.GetValue<string>());
        Assert.Equal(otherId.ToString(), moved["organizationId"]!.GetValue<string>());

        var list = (await admin.GetAsync("api/admin/email-rules").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray();
        Assert.Equal(["*.acme.de", "acme.com", "acme.com"], list.Select(r => r!["domain"]!.GetValue<string>()));
        using (var deleted = await admin.DeleteAsync($"api/admin/email-rules/{rule["id"]}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await admin.DeleteAsync($"api/admin/email-rules/{rule["id"]}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(3, await app.CountAuditAsync(site, "email_rule.created"));
        Assert.Equal(1, await app.CountAuditAsync(site, "email_rule.updated"));
        Assert.Equal(1, await app.CountAuditAsync(site, "email_rule.deleted"));
    }

    [Fact]
    public async Task DryRun_ChangesNothing_ApplyAddsAuditsAndWritesBack_AndSyncedAndNewCustomersFollow()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 2, customers: 10);
        site.Directory.AddCustomer("557058:ann", "Ann", "ann@acme.com");
        site.Directory.AddCustomer("557058:bob", "Bob", "Bob@EU.Acme.co.uk");
        site.Directory.AddCustomer("557058:cat", "Cat", "cat@acme.co.uk"); // not a subdomain of acme.co.uk: the wildcard leaves it out
        site.Directory.AddCustomer("557058:dan", "Dan", "dan@notacme.com");
        site.Directory.AddCustomer("557058:eve", "Eve", "eve@a.b.acme.co.uk");
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await WaitForLatestAsync(admin);
        var org = site.Directory.Organizations[0];
        var other = site.Directory.Organizations[1];
        var orgId = await RecordIdAsync(app, site, org.Id);
        var otherId = await RecordIdAsync(app, site, other.Id);
        var exact = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "acme.com", organizationId = orgId }).OkJsonAsync(HttpStatusCode.Created);
        var wildcard = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "*.acme.co.uk", organizationId = otherId }).OkJsonAsync(HttpStatusCode.Created);

        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        var before = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId);
        var dryRun = await admin.GetAsync("api/admin/email-rules/dry-run").OkJsonAsync();
        Assert.Equal(before, await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId));
        Assert.Equal(3, dryRun["total"]!.GetValue<int>());
        Assert.False(dryRun["truncated"]!.GetValue<bool>());
        var additions = dryRun["additions"]!.AsArray().Select(a => (
            a!["accountId"]!.GetValue<string>(), a["email"]!.GetValue<string>(), a["organizationId"]!.GetValue<string>(), a["ruleId"]!.GetValue<string>(), a["domain"]!.GetValue<string>())).ToHashSet();
        Assert.Equal(new HashSet<(string, string, string, string, string)>
        {
            ("557058:ann", "ann@acme.com", orgId.ToString(), exact["id"]!.GetValue<string>(), "acme.com"),
            ("557058:bob", "Bob@EU.Acme.co.uk", otherId.ToString(), wildcard["id"]!.GetValue<string>(), "*.acme.co.uk"),
            ("557058:eve", "eve@a.b.acme.co.uk", otherId.ToString(), wildcard["id"]!.GetValue<string>(), "*.acme.co.uk"),
        }, additions);
        Assert.All(dryRun["additions"]!.AsArray(), a => Assert.False(string.IsNullOrEmpty(a!["customerName"]!.GetValue<string>())));

        var applied = await admin.PostAsync("api/admin/email-rules/apply", null).OkJsonAsync();
        Assert.Equal(3, applied["added"]!.GetValue<int>());
        var report = await SettledWriteBacksAsync(admin);
        Assert.Equal(3, report.Count);
        Assert.All(report, r => Assert.Equal("done", r["state"]!.GetValue<string>()));
        Assert.All(report, r => Assert.NotNull(r["ruleId"]));
        Assert.Contains("557058:ann", site.Directory.MembersOf(org.Id));
        Assert.Contains("557058:bob", site.Directory.MembersOf(other.Id));
        Assert.Contains("557058:eve", site.Directory.MembersOf(other.Id));
        Assert.DoesNotContain("557058:cat", site.Directory.MembersOf(other.Id));
        Assert.Equal(3, await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString,
            "SELECT count(*) FROM audit_entries WHERE tenant_id = @t AND action = 'membership.added' AND actor = 'system:email-rules' AND new_value::jsonb ? 'ruleId'", ("t", tenantId)));
        Assert.Equal(0, (await admin.GetAsync("api/admin/email-rules/dry-run").OkJsonAsync())["total"]!.GetValue<int>());

        // An agent's removal wins over the rule: applying again does not put Ann back.
        var ann = await RecordIdAsync(app, site, "557058:ann");
        await agent.SendJsonAsync(HttpMethod.Delete, $"api/organizations/{orgId}/members/{ann}", null).OkJsonAsync();
        Assert.Equal(0, (await admin.PostAsync("api/admin/email-rules/apply", null).OkJsonAsync())["added"]!.GetValue<int>());

        // A customer new in JSM with a matching address: added by the sync's rule pass, and written back.
        site.Directory.AddCustomer("557058:fay", "Fay", "fay@acme.com");
        Assert.Equal("succeeded", (await SyncAsync(admin))["status"]!.GetValue<string>());
        Assert.Contains(("557058:fay", org.Id), await MembershipsAsync(app, site));
        await SettledWriteBacksAsync(admin);
        Assert.Contains("557058:fay", site.Directory.MembersOf(org.Id));
        Assert.DoesNotContain(("557058:ann", org.Id), await MembershipsAsync(app, site));

        // A customer created in the app: added in the creation's transaction (not in JSM, so nothing to write back).
        var created = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = "557058:gus", name = "Gus", email = "gus@acme.com" }).OkJsonAsync(HttpStatusCode.Created);
        Assert.Contains(orgId.ToString(), created["organizationIds"]!.AsArray().Select(o => o!.GetValue<string>()));
        var gus = Assert.Single(await WriteBacksAsync(admin), r => r["accountId"]?.GetValue<string>() == "557058:gus");
        Assert.Equal("not-in-jsm", gus["state"]!.GetValue<string>());
        Assert.Equal(exact["id"]!.GetValue<string>(), gus["ruleId"]!.GetValue<string>());
    }

    [Fact]
    public async Task ACustomerRemovedInJsmItself_IsNotPutBackByARule_AtTheNextSync()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 2, customers: 5);
        site.Directory.AddCustomer("557058:jsm-ann", "Ann", "ann@jsm-removal.example");
        site.Directory.AddCustomer("557058:jsm-bob", "Bob", "bob@jsm-removal.example");
        var org = site.Directory.Organizations[0];
        site.Directory.AddMember(org.Id, "557058:jsm-bob"); // in the organization from the start
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        Assert.Equal("succeeded", (await WaitForLatestAsync(admin))["status"]!.GetValue<string>());
        var orgId = await RecordIdAsync(app, site, org.Id);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/email-rules", new { domain = "jsm-removal.example", organizationId = orgId }).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal(1, (await admin.PostAsync("api/admin/email-rules/apply", null).OkJsonAsync())["added"]!.GetValue<int>()); // Ann
        await SettledWriteBacksAsync(admin);
        Assert.Contains("557058:jsm-ann", site.Directory.MembersOf(org.Id));

        // Someone removes both in JSM; the next sync sees it, and the rule does not undo it.
        site.Directory.RemoveMember(org.Id, "557058:jsm-ann");
        site.Directory.RemoveMember(org.Id, "557058:jsm-bob");
        Assert.Equal("succeeded", (await SyncAsync(admin))["status"]!.GetValue<string>());
        var memberships = await MembershipsAsync(app, site);
        Assert.DoesNotContain(("557058:jsm-ann", org.Id), memberships);
        Assert.DoesNotContain(("557058:jsm-bob", org.Id), memberships);
        Assert.DoesNotContain("557058:jsm-ann", site.Directory.MembersOf(org.Id));
        Assert.DoesNotContain("557058:jsm-bob", site.Directory.MembersOf(org.Id));
        Assert.Equal(0, (await admin.GetAsync("api/admin/email-rules/dry-run").OkJsonAsync())["total"]!.GetValue<int>());
        Assert.Equal(0, (await admin.PostAsync("api/admin/email-rules/apply", null).OkJsonAsync())["added"]!.GetValue<int>());
        var fromJsm = await WriteBacksAsync(admin, "state=from-jsm");
        Assert.Equal(["557058:jsm-ann", "557058:jsm-bob"], fromJsm.Select(r => r["accountId"]!.GetValue<string>()).Order());
        Assert.All(fromJsm, r => Assert.Equal("remove", r["operation"]!.GetValue<string>()));
        Assert.All(fromJsm, r => Assert.Equal("system:jira-sync", r["actor"]!.GetValue<string>()));

        // Once more: nothing new is recorded, and an agent can still add one back in the app (a person's choice).
        Assert.Equal("succeeded", (await SyncAsync(admin))["status"]!.GetValue<string>());
        Assert.Equal(2, (await WriteBacksAsync(admin, "state=from-jsm")).Count);
        await app.As(site, SiteRole.Agent).SendJsonAsync(HttpMethod.Put, $"api/organizations/{orgId}/members/{await RecordIdAsync(app, site, "557058:jsm-ann")}", null).OkJsonAsync();
        await SettledWriteBacksAsync(admin);
        Assert.Contains("557058:jsm-ann", site.Directory.MembersOf(org.Id));
    }
}
