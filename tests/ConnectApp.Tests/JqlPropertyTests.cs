using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>
/// Customer and organization values in JQL, against the simulator: fields an admin marks searchable become typed
/// aliases (a <c>jiraEntityProperties</c> dynamic module on the site), a new issue is stamped with its reporter's values
/// (the <c>jira:issue_created</c> webhook), the reporter's issues are stamped again when those values change, and the
/// issues are found back through the simulator's JQL (=, &lt;, &gt;, issue.property[...]).
/// </summary>
[Collection(AppCollection.Name)]
public sealed class JqlPropertyTests(ConnectAppFixture app)
{
    private const string Reporter = "557058:jql-reporter";

    [Fact]
    public async Task Property_IsStampedOnIssueCreation_AndAgainOnValueChange_AndFoundBackThroughJql()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" }, jqlSearchable = true })
            .OkJsonAsync(HttpStatusCode.Created);
        var seats = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "seats", label = "Seats", type = "number", jqlSearchable = true })
            .OkJsonAsync(HttpStatusCode.Created);
        Assert.True(seats["jqlSearchable"]!.GetValue<bool>());
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "secret", label = "Secret", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "region", label = "Region", type = "select", options = new[] { "EU", "US" }, jqlSearchable = true })
            .OkJsonAsync(HttpStatusCode.Created);
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Extractions(site) == 3), TimeSpan.FromSeconds(30), "the JQL aliases to be registered");
        var module = site.Issues.DynamicModules["connectapp-jql-aliases"];
        Assert.Equal("jiraEntityProperties", module.Type);
        var extractions = module.Module["keyConfigurations"]![0]!["extractions"]!.AsArray().ToDictionary(e => e!["alias"]!.GetValue<string>(), e => e!["type"]!.GetValue<string>());
        Assert.Equal(new Dictionary<string, string> { ["customer.tier"] = "string", ["customer.seats"] = "number", ["organization.region"] = "string" }, extractions);

        var globex = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "77", name = "Globex", values = new { region = "EU" } }).OkJsonAsync(HttpStatusCode.Created);
        var rita = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new
        {
            accountId = Reporter,
            name = "Jql Reporter",
            organizationIds = new[] { globex["id"]!.GetValue<string>() },
            values = new { tier = "Gold", seats = 12, secret = "hush-hush" },
        }).OkJsonAsync(HttpStatusCode.Created);
        await TenantTableCounts.WaitAsync( // the new customer's values were looked at (no issue of theirs yet)
            async () => await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM jql_stamps WHERE customer_id = @c", ("c", Guid.Parse(rita["id"]!.GetValue<string>()))) == 1,
            TimeSpan.FromSeconds(30), "the customer's first stamp");
        var older = site.Issues.Add(Reporter); // in Jira, but created without a webhook: not stamped until the values change

        var (issue, answers) = await site.CreateIssueAsync(Reporter);
        Assert.Equal([HttpStatusCode.Accepted], answers);
        await TenantTableCounts.WaitAsync(() => Task.FromResult(issue.Properties.ContainsKey("connectapp.values")), TimeSpan.FromSeconds(30), "the new issue to be stamped");
        Assert.DoesNotContain("hush-hush", issue.Properties["connectapp.values"].ToJsonString(), StringComparison.Ordinal); // only searchable fields go in
        Assert.Equal([issue.Key], Keys(site, "customer.tier = \"Gold\""));
        Assert.Equal([issue.Key], Keys(site, "customer.seats > 10 AND customer.seats <= 12"));
        Assert.Empty(Keys(site, "customer.seats > 12"));
        Assert.Equal([issue.Key], Keys(site, "organization.region = EU AND reporter = \"" + Reporter + "\""));
        Assert.Equal([issue.Key], Keys(site, "issue.property[connectapp.values].customer.tier = Gold"));
        Assert.Throws<JqlException>(() => site.Issues.Search("customer.secret = \"hush-hush\"")); // not searchable: no such field

        // The customer's values change: every issue they reported is stamped again, the older one included.
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/customers/{rita["id"]}/values", new { values = new { tier = "Silver", seats = 25 } }, $"W/\"{rita["version"]}\"").OkJsonAsync();
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Keys(site, "customer.tier = Silver").Count == 2), TimeSpan.FromSeconds(30), "the reporter's issues to be stamped again");
        Assert.Equal(new[] { older.Key, issue.Key }.Order(), Keys(site, "customer.seats > 20").Order());
        Assert.Empty(Keys(site, "customer.tier = Gold"));

        // Their organization's value changes: the members' issues follow.
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{globex["id"]}/values", new { values = new { region = "US" } }, $"W/\"{globex["version"]}\"").OkJsonAsync();
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Keys(site, "organization.region = US").Count == 2), TimeSpan.FromSeconds(30), "the organization's change to reach the issues");
        Assert.Empty(Keys(site, "organization.region = EU"));

        // A field no longer searchable: its alias goes, and the property no longer carries it.
        var current = await agent.GetAsync($"api/fields/{seats["id"]}").OkJsonAsync();
        await admin.SendJsonAsync(HttpMethod.Patch, $"api/admin/fields/{seats["id"]}", new { jqlSearchable = false }, $"W/\"{current["version"]}\"").OkJsonAsync();
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Extractions(site) == 2), TimeSpan.FromSeconds(30), "the aliases to be registered again");
        Assert.Throws<JqlException>(() => site.Issues.Search("customer.seats > 20"));
        await TenantTableCounts.WaitAsync(
            () => Task.FromResult(issue.Properties["connectapp.values"]["customer"]!.AsObject().ContainsKey("seats") is false),
            TimeSpan.FromSeconds(30), "the issues to be stamped without the field");
        Assert.Equal(2, Keys(site, "customer.tier = Silver").Count);
    }

    [Fact]
    public async Task RenamingAnOption_StampsTheIssuesOfItsHoldersAgain_AndAddingOneStampsNothing()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        var tier = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" }, jqlSearchable = true })
            .OkJsonAsync(HttpStatusCode.Created);
        var products = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "products", label = "Products", type = "multi-select", options = new[] { "Cloud", "Mobile" }, jqlSearchable = true })
            .OkJsonAsync(HttpStatusCode.Created);
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Extractions(site) == 2), TimeSpan.FromSeconds(30), "the JQL aliases to be registered");
        var acme = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "81", name = "Acme", values = new { products = new[] { "Cloud", "Mobile" } } }).OkJsonAsync(HttpStatusCode.Created);
        await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = Reporter, name = "Gold Holder", organizationIds = new[] { acme["id"]!.GetValue<string>() }, values = new { tier = "Gold" } })
            .OkJsonAsync(HttpStatusCode.Created);
        await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = "557058:silver-holder", name = "Silver Holder", values = new { tier = "Silver" } }).OkJsonAsync(HttpStatusCode.Created);
        var (gold, _) = await site.CreateIssueAsync(Reporter);
        var (silver, _) = await site.CreateIssueAsync("557058:silver-holder");
        await TenantTableCounts.WaitAsync(() => Task.FromResult(gold.Properties.ContainsKey("connectapp.values") && silver.Properties.ContainsKey("connectapp.values")), TimeSpan.FromSeconds(30), "the issues to be stamped");
        Assert.Equal([gold.Key], Keys(site, "customer.tier = Gold"));
        Assert.Equal([gold.Key], Keys(site, "organization.products = Mobile"));

        // An option renamed (a select of the customer, a multi-select of their organization): the holders' issues follow.
        var goldId = tier["options"]!.AsArray().Single(o => o!["label"]!.GetValue<string>() == "Gold")!["id"]!.GetValue<string>();
        var mobileId = products["options"]!.AsArray().Single(o => o!["label"]!.GetValue<string>() == "Mobile")!["id"]!.GetValue<string>();
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await IdleAsync(tenantId);
        var writesBefore = site.Issues.PropertyWrites;
        var silverProperty = silver.Properties["connectapp.values"].ToJsonString();
        await admin.SendJsonAsync(HttpMethod.Patch, $"api/admin/fields/{tier["id"]}/options/{goldId}", new { label = "Platinum" }, $"W/\"{tier["version"]}\"").OkJsonAsync();
        await admin.SendJsonAsync(HttpMethod.Patch, $"api/admin/fields/{products["id"]}/options/{mobileId}", new { label = "Mobile apps" }, $"W/\"{products["version"]}\"").OkJsonAsync();
        await TenantTableCounts.WaitAsync(
            () => Task.FromResult(Keys(site, "customer.tier = Platinum").Count == 1 && Keys(site, "organization.products = \"Mobile apps\"").Count == 1),
            TimeSpan.FromSeconds(30), "the holder's issue to carry the new labels");
        Assert.Empty(Keys(site, "customer.tier = Gold"));
        Assert.Empty(Keys(site, "organization.products = Mobile"));
        await IdleAsync(tenantId);
        Assert.Equal(silverProperty, silver.Properties["connectapp.values"].ToJsonString());
        var writesAfter = site.Issues.PropertyWrites;
        Assert.InRange(writesAfter - writesBefore, 1, 2); // the holder's issue, at most once per rename; never the other one

        // An option added: nobody holds it, no issue is written.
        var current = await agent.GetAsync($"api/fields/{tier["id"]}").OkJsonAsync();
        await admin.SendJsonAsync(HttpMethod.Post, $"api/admin/fields/{tier["id"]}/options", new { label = "Bronze" }, $"W/\"{current["version"]}\"").OkJsonAsync();
        await IdleAsync(tenantId);
        Assert.Equal(writesAfter, site.Issues.PropertyWrites);
    }

    private Task IdleAsync(Guid tenantId) => TenantTableCounts.WaitAsync(
        async () => await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM outbox_messages WHERE tenant_id = @t AND applied_at IS NULL", ("t", tenantId)) == 0,
        TimeSpan.FromSeconds(30), "the site's background work");

    [Fact]
    public async Task SiteWithoutSearchableFields_QueuesNoStamping_AndCallsNoJiraIssueApi()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "tier", label = "Tier", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "5", name = "Plain" }).OkJsonAsync(HttpStatusCode.Created);
        await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = Reporter, name = "Plain Reporter", organizationIds = new[] { org["id"]!.GetValue<string>() }, values = new { tier = "Gold" } })
            .OkJsonAsync(HttpStatusCode.Created);
        var (issue, answers) = await site.CreateIssueAsync(Reporter);
        Assert.Equal([HttpStatusCode.Accepted], answers);

        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await TenantTableCounts.WaitAsync(
            async () => await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM outbox_messages WHERE tenant_id = @t AND applied_at IS NULL", ("t", tenantId)) == 0,
            TimeSpan.FromSeconds(30), "the site's background work");
        Assert.Equal(0L, await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM outbox_messages WHERE tenant_id = @t AND type = 'jql.stamp.v1'", ("t", tenantId)));
        Assert.Empty(site.Issues.DynamicModules);
        Assert.Equal(0, site.Issues.PropertyWrites + site.Issues.SearchCalls);
        Assert.Empty(issue.Properties);
    }

    [Fact]
    public async Task SimulatorSearch_AnswersItsJqlSubset_AndRefusesTheRestWithJirasErrorMessages()
    {
        var site = await app.InstallSiteAsync();
        site.Issues.Add(Reporter, ["Globex"], "done");
        site.Issues.Add(Reporter, [], "new");

        async Task<(HttpStatusCode Status, JsonNode Body)> SearchAsync(string jql)
        {
            const string path = "/rest/api/3/search/jql";
            var claims = AtlassianConnect.ConnectJwt.RequestClaims(site.AppKey!, AtlassianConnect.QueryStringHash.Compute("POST", path), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(3), null);
            using var client = app.Simulator.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { BaseAddress = site.BaseUrl });
            using var request = new HttpRequestMessage(HttpMethod.Post, path.TrimStart('/')) { Content = JsonContent.Create(new { jql, maxResults = 1 }) };
            request.Headers.TryAddWithoutValidation("Authorization", "JWT " + AtlassianConnect.ConnectJwt.CreateSymmetric(claims, site.SharedSecret!));
            using var response = await client.SendAsync(request);
            return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }

        var (status, page) = await SearchAsync($"reporter = \"{Reporter}\" AND statusCategory != Done ORDER BY created DESC");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("SD-2", Assert.Single(page["issues"]!.AsArray())!["key"]!.GetValue<string>());
        (status, page) = await SearchAsync("Organizations = Globex");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(page["isLast"]!.GetValue<bool>());

        foreach (var outside in new[] { "reporter = a OR reporter = b", "assignee = x", "customer.tier = Gold", "summary ~ \"unterminated" })
        {
            (status, page) = await SearchAsync(outside);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.NotEmpty(page["errorMessages"]!.AsArray());
        }
    }

    private static int Extractions(SimulatedSite site) =>
        site.Issues.DynamicModules.TryGetValue("connectapp-jql-aliases", out var m) ? m.Module["keyConfigurations"]![0]!["extractions"]!.AsArray().Count : 0;

    private static List<string> Keys(SimulatedSite site, string jql) => [.. site.Issues.Search(jql).Select(i => i.Key)];
}
