using System.Net;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>
/// The JQL property's fan-out through Jira's asynchronous bulk API (<c>POST /rest/api/3/issue/properties/multi</c>, a
/// task followed to its end), against the simulator: one call per 100 issues, a customer's stamp recorded only once
/// every task is COMPLETE without failures, a FAILED task or a failed issue retried through the message's retries, 429s
/// waited out, and nothing called when the property would not change.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class JqlBulkStampTests(ConnectAppFixture app)
{
    [Fact]
    public async Task ValueChange_On250Issues_IsThreeBulkCalls_NotAPutPerIssue_AndFoundBackThroughJql_AndAnUnchangedPropertyCallsNothing()
    {
        var (site, agent) = await SiteWithSearchableTierAsync();
        const string reporter = "557058:bulk-250";
        for (var i = 0; i < 250; i++)
        {
            site.Issues.Add(reporter); // in Jira, created without a webhook
        }

        var customer = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = reporter, name = "Bulk Reporter", values = new { tier = "Gold", note = "a" } })
            .OkJsonAsync(HttpStatusCode.Created);
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Keys(site, "customer.tier = Gold").Count == 250), TimeSpan.FromSeconds(60), "the first stamp of 250 issues");
        var tenantId = await TenantIdAsync(site);
        await IdleAsync(tenantId);
        var (bulk, puts, searches, writes) = (site.Issues.BulkPropertyCalls, site.Issues.PropertyPuts, site.Issues.SearchCalls, site.Issues.PropertyWrites);

        var changed = await agent.SendJsonAsync(HttpMethod.Patch, $"api/customers/{customer["id"]}/values", new { values = new { tier = "Silver" } }, $"W/\"{customer["version"]}\"").OkJsonAsync();
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Keys(site, "customer.tier = Silver").Count == 250), TimeSpan.FromSeconds(60), "the 250 issues to be stamped again");
        await IdleAsync(tenantId);
        Assert.Empty(Keys(site, "customer.tier = Gold"));
        Assert.Equal(3, site.Issues.BulkPropertyCalls - bulk); // 100 + 100 + 50
        Assert.Equal(0, site.Issues.PropertyPuts - puts);
        Assert.Equal(3, site.Issues.SearchCalls - searches);
        Assert.Equal(250, site.Issues.PropertyWrites - writes);
        Assert.All(site.Issues.Tasks.Values, t => Assert.Equal("COMPLETE", t.Status));
        Assert.Equal(250, await TenantTableCounts.ScalarAsync<int>(app.DatabaseConnectionString, "SELECT issues FROM jql_stamps WHERE customer_id = @c", ("c", Guid.Parse(customer["id"]!.GetValue<string>()))));

        // A change of a field that is not searchable leaves the property as it was: no search, no write.
        (bulk, searches) = (site.Issues.BulkPropertyCalls, site.Issues.SearchCalls);
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/customers/{customer["id"]}/values", new { values = new { note = "b" } }, $"W/\"{changed["version"]}\"").OkJsonAsync();
        await IdleAsync(tenantId);
        Assert.Equal(bulk, site.Issues.BulkPropertyCalls);
        Assert.Equal(searches, site.Issues.SearchCalls);
    }

    [Fact]
    public async Task FailedTasks_AndAnIssueTheTaskCouldNotSet_AreRetried_AndTheStampIsRecordedOnlyOnceEveryTaskCompleted()
    {
        var (site, agent) = await SiteWithSearchableTierAsync();
        const string reporter = "557058:bulk-failing";
        var issues = Enumerable.Range(0, 150).Select(_ => site.Issues.Add(reporter)).ToList();
        var customer = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = reporter, name = "Failing Reporter", values = new { tier = "Gold" } })
            .OkJsonAsync(HttpStatusCode.Created);
        var customerId = Guid.Parse(customer["id"]!.GetValue<string>());
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Keys(site, "customer.tier = Gold").Count == 150), TimeSpan.FromSeconds(60), "the first stamp");
        var tenantId = await TenantIdAsync(site);
        await IdleAsync(tenantId);
        var goldHash = await HashAsync(customerId);

        // Two attempts' tasks end FAILED (two pages each): nothing is marked stamped; the third attempt (5 s later) writes.
        site.Issues.FailBulkTasks = 4;
        var changed = await agent.SendJsonAsync(HttpMethod.Patch, $"api/customers/{customer["id"]}/values", new { values = new { tier = "Silver" } }, $"W/\"{customer["version"]}\"").OkJsonAsync();
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Failed(site) == 4), TimeSpan.FromSeconds(30), "two attempts' tasks to fail");
        Assert.Equal(goldHash, await HashAsync(customerId));
        Assert.Empty(Keys(site, "customer.tier = Silver"));
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Keys(site, "customer.tier = Silver").Count == 150), TimeSpan.FromSeconds(30), "the retried stamp");
        await IdleAsync(tenantId);
        var silverHash = await HashAsync(customerId);
        Assert.NotEqual(goldHash, silverHash);

        // A task COMPLETE whose result names an issue it could not set: the others are written, the stamp is not recorded,
        // and once Jira takes the issue again the retry writes it too.
        var stubborn = issues[42];
        site.Issues.FailBulkIssues[stubborn.Id] = true;
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/customers/{customer["id"]}/values", new { values = new { tier = "Bronze" } }, $"W/\"{changed["version"]}\"").OkJsonAsync();
        await TenantTableCounts.WaitAsync(() => Task.FromResult(site.Issues.Tasks.Values.Any(t => t.ToJson()["result"] is not null)), TimeSpan.FromSeconds(30), "a task that names a failed issue");
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Keys(site, "customer.tier = Bronze").Count == 149), TimeSpan.FromSeconds(30), "the other issues");
        Assert.Equal(silverHash, await HashAsync(customerId));
        Assert.Equal("Silver", stubborn.Properties["connectapp.values"]["customer"]!["tier"]!.GetValue<string>());
        site.Issues.FailBulkIssues.Clear();
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Keys(site, "customer.tier = Bronze").Count == 150), TimeSpan.FromSeconds(45), "the retry to write the issue");
        await IdleAsync(tenantId); // every stamp message applied: none went to the dead-letter queue
        Assert.NotEqual(silverHash, await HashAsync(customerId));
    }

    [Fact]
    public async Task RateLimitStormOnTheBulkCall_IsWaitedOut_AndNothingIsLost()
    {
        var (site, agent) = await SiteWithSearchableTierAsync();
        const string reporter = "557058:bulk-429";
        for (var i = 0; i < 200; i++)
        {
            site.Issues.Add(reporter);
        }

        site.Issues.RateLimitBulkCalls = 6; // 429 with Retry-After: 1, six times in a row
        await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = reporter, name = "Limited Reporter", values = new { tier = "Gold" } }).OkJsonAsync(HttpStatusCode.Created);
        await TenantTableCounts.WaitAsync(() => Task.FromResult(Keys(site, "customer.tier = Gold").Count == 200), TimeSpan.FromSeconds(60), "the stamp through the 429s");
        await IdleAsync(await TenantIdAsync(site));
        Assert.Equal(6, site.Issues.BulkPropertyRateLimited);
        Assert.Equal(2, site.Issues.BulkPropertyCalls); // each page accepted once: the client waited, the message did not start over
    }

    [Fact]
    public async Task SimulatorBulkEndpoint_ValidatesAsJiraDocuments_AndAnswers303WithATaskThatCompletes()
    {
        var site = await app.InstallSiteAsync();
        var issue = site.Issues.Add("557058:sim");

        async Task<(HttpStatusCode Status, JsonNode? Body, Uri? Location)> SendAsync(HttpMethod method, string path, JsonNode? body)
        {
            var claims = AtlassianConnect.ConnectJwt.RequestClaims(site.AppKey!, AtlassianConnect.QueryStringHash.Compute(method.Method, path), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(3), null);
            using var client = app.Simulator.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { BaseAddress = site.BaseUrl, AllowAutoRedirect = false });
            using var request = new HttpRequestMessage(method, path.TrimStart('/'));
            if (body is not null)
            {
                request.Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
            }

            request.Headers.TryAddWithoutValidation("Authorization", "JWT " + AtlassianConnect.ConnectJwt.CreateSymmetric(claims, site.SharedSecret!));
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response.Headers.Location);
        }

        const string multi = "/rest/api/3/issue/properties/multi";
        JsonObject Update(JsonNode id, int properties) => new()
        {
            ["issueID"] = id,
            ["properties"] = new JsonObject(Enumerable.Range(0, properties).Select(p => KeyValuePair.Create("p" + p, (JsonNode?)new JsonObject { ["v"] = p }))),
        };
        var tooMany = new JsonObject { ["issues"] = new JsonArray([.. Enumerable.Range(0, 101).Select(i => (JsonNode)Update(10000 + i, 1))]) };
        var tooManyProperties = new JsonObject { ["issues"] = new JsonArray(Update(long.Parse(issue.Id, System.Globalization.CultureInfo.InvariantCulture), 11)) };
        var notNumeric = new JsonObject { ["issues"] = new JsonArray(Update(issue.Key, 1)) };
        foreach (var refused in new[] { tooMany, tooManyProperties, notNumeric, new JsonObject() })
        {
            var (status, body, _) = await SendAsync(HttpMethod.Post, multi, refused);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.NotEmpty(body!["errorMessages"]!.AsArray());
        }

        Assert.Equal(0, site.Issues.BulkPropertyCalls);
        var accepted = new JsonObject { ["issues"] = new JsonArray(Update(long.Parse(issue.Id, System.Globalization.CultureInfo.InvariantCulture), 10), Update(999999, 1)) };
        var (seeOther, _, location) = await SendAsync(HttpMethod.Post, multi, accepted);
        Assert.Equal(HttpStatusCode.SeeOther, seeOther);
        Assert.EndsWith("/rest/api/3/task/" + location!.Segments[^1], location.AbsolutePath, StringComparison.Ordinal);
        JsonNode? task = null;
        await TenantTableCounts.WaitAsync(async () =>
        {
            var (status, body, _) = await SendAsync(HttpMethod.Get, "/rest/api/3/task/" + location.Segments[^1], null);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Contains(body!["status"]!.GetValue<string>(), new[] { "ENQUEUED", "RUNNING", "COMPLETE" });
            task = body;
            return body["status"]!.GetValue<string>() == "COMPLETE";
        }, TimeSpan.FromSeconds(10), "the task to complete");
        Assert.Null(task!["result"]); // the unknown issue 999999 is ignored, as Jira documents
        Assert.Equal(10, issue.Properties.Count);
        var (read, property, _) = await SendAsync(HttpMethod.Get, $"/rest/api/3/issue/{issue.Id}/properties/p9", null);
        Assert.Equal(HttpStatusCode.OK, read);
        Assert.Equal(9, property!["value"]!["v"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("https://acme.atlassian.net/rest/api/3/task/10641", "10641")]
    [InlineData("https://elsewhere.example/rest/api/2/task/abc123", "abc123")] // only the id is taken: asked of the tenant's own baseUrl
    [InlineData("/rest/api/3/task/77?x=1", "77")]
    [InlineData("https://acme.atlassian.net/rest/api/3/issue/10641", null)]
    [InlineData("https://acme.atlassian.net/rest/api/3/task/..%2F..%2Fadmin", null)]
    [InlineData("https://acme.atlassian.net/rest/api/3/task/", null)]
    public void BulkTaskLocation_YieldsOnlyATaskId(string location, string? expected) =>
        Assert.Equal(expected, ConnectApp.Jira.JsmClient.TaskId(new Uri(location, UriKind.RelativeOrAbsolute)));

    private async Task<(SimulatedSite Site, HttpClient Agent)> SiteWithSearchableTierAsync()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver", "Bronze" }, jqlSearchable = true })
            .OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "note", label = "Note", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        await TenantTableCounts.WaitAsync(() => Task.FromResult(site.Issues.DynamicModules.ContainsKey("connectapp-jql-aliases")), TimeSpan.FromSeconds(30), "the JQL aliases to be registered");
        return (site, app.As(site, SiteRole.Agent));
    }

    private async Task<Guid> TenantIdAsync(SimulatedSite site) => (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;

    private Task<string?> HashAsync(Guid customerId) =>
        TenantTableCounts.ScalarAsync<string>(app.DatabaseConnectionString, "SELECT hash FROM jql_stamps WHERE customer_id = @c", ("c", customerId));

    private Task IdleAsync(Guid tenantId) => TenantTableCounts.WaitAsync(
        async () => await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM outbox_messages WHERE tenant_id = @t AND applied_at IS NULL", ("t", tenantId)) == 0,
        TimeSpan.FromSeconds(60), "the site's background work");

    private static int Failed(SimulatedSite site) => site.Issues.Tasks.Values.Count(t => t.Status == "FAILED");

    private static List<string> Keys(SimulatedSite site, string jql) => [.. site.Issues.Search(jql).Select(i => i.Key)];
}
