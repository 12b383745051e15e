using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>Every visibility rule for each role: admins manage, agents see everything, customers only their own and only customer-visible fields.</summary>
[Collection(AppCollection.Name)]
public sealed class RolesAndVisibilityTests(ConnectAppFixture app)
{
    private sealed record World(SimulatedSite Site, HttpClient Admin, HttpClient Agent, HttpClient Customer, string CustomerAccount, string OwnCustomerId, string OtherCustomerId, string OwnOrgId, string OtherOrgId);

    private async Task<World> WorldAsync()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        var account = "557058:cust-" + Guid.NewGuid().ToString("N")[..8];
        var customer = app.As(site, SiteRole.Customer, account);
        foreach (var (entity, prefix) in new[] { ("customer", "c"), ("organization", "o") })
        {
            await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity, key = prefix + "_internal", label = "Internal", type = "text", visibility = "agents" }).OkJsonAsync(HttpStatusCode.Created);
            await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity, key = prefix + "_view", label = "View", type = "text", visibility = "customers-view" }).OkJsonAsync(HttpStatusCode.Created);
            await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity, key = prefix + "_edit", label = "Edit", type = "text", visibility = "customers-edit" }).OkJsonAsync(HttpStatusCode.Created);
        }

        var values = (string p) => new JsonObject { [p + "_internal"] = "secret-note", [p + "_view"] = "visible", [p + "_edit"] = "editable" };
        var ownOrg = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new JsonObject { ["jsmId"] = "1", ["name"] = "Own Org", ["values"] = values("o") }).OkJsonAsync(HttpStatusCode.Created);
        var otherOrg = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new JsonObject { ["jsmId"] = "2", ["name"] = "Other Org", ["values"] = values("o") }).OkJsonAsync(HttpStatusCode.Created);
        var own = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new JsonObject
        {
            ["accountId"] = account,
            ["name"] = "Me",
            ["email"] = "me@example.com",
            ["organizationIds"] = new JsonArray(ownOrg["id"]!.GetValue<string>()),
            ["values"] = values("c"),
        }).OkJsonAsync(HttpStatusCode.Created);
        var other = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new JsonObject
        {
            ["accountId"] = "557058:someone-else",
            ["name"] = "Other",
            ["organizationIds"] = new JsonArray(otherOrg["id"]!.GetValue<string>()),
            ["values"] = values("c"),
        }).OkJsonAsync(HttpStatusCode.Created);
        return new World(site, admin, agent, customer, account, own["id"]!.GetValue<string>(), other["id"]!.GetValue<string>(), ownOrg["id"]!.GetValue<string>(), otherOrg["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("GET", "api/organizations")]
    [InlineData("GET", "api/customers")]
    [InlineData("GET", "api/fields")]
    [InlineData("GET", "api/issue-panel?reporter=557058:x")]
    [InlineData("POST", "api/organizations")]
    [InlineData("POST", "api/bulk/values")]
    [InlineData("POST", "api/admin/fields")]
    [InlineData("PUT", "api/admin/fields/order")]
    public async Task CustomerToken_OnAgentOrAdminEndpoints_Is403(string method, string url)
    {
        var w = await WorldAsync();
        await w.Customer.SendJsonAsync(new HttpMethod(method), url, method == "GET" ? null : new { }).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task CustomerToken_OnAgentRecordEndpoints_Is403_EvenForTheirOwnRecord()
    {
        var w = await WorldAsync();
        await w.Customer.SendJsonAsync(HttpMethod.Get, $"api/customers/{w.OwnCustomerId}", null).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await w.Customer.SendJsonAsync(HttpMethod.Get, $"api/customers/{w.OwnCustomerId}/history", null).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await w.Customer.SendJsonAsync(HttpMethod.Patch, $"api/customers/{w.OwnCustomerId}/values", new { values = new { c_edit = "x" } }, "W/\"1\"").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task AgentToken_OnAdminEndpoints_Is403()
    {
        var w = await WorldAsync();
        await w.Agent.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "x", label = "X", type = "text" }).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Customer_SeesOwnRecordAndOrgs_WithCustomerVisibleFieldsOnly()
    {
        var w = await WorldAsync();
        var me = await w.Customer.GetAsync("api/portal/me").OkJsonAsync();
        var customer = me["customer"]!;
        Assert.Equal(w.OwnCustomerId, customer["id"]!.GetValue<string>());
        Assert.Equal(new[] { "c_edit", "c_view" }, customer["values"]!.AsObject().Select(v => v.Key).Order().ToArray());
        Assert.Null(customer["email"]);
        var orgs = me["organizations"]!.AsArray();
        Assert.Equal(w.OwnOrgId, Assert.Single(orgs)!["id"]!.GetValue<string>());
        Assert.Equal(new[] { "o_edit", "o_view" }, orgs[0]!["values"]!.AsObject().Select(v => v.Key).Order().ToArray());
        Assert.DoesNotContain("secret-note", me.ToJsonString(), StringComparison.Ordinal);
        Assert.All(me["customerFields"]!.AsArray(), f => Assert.NotEqual("agents", f!["visibility"]!.GetValue<string>()));

        var own = await w.Customer.GetAsync($"api/portal/organizations/{w.OwnOrgId}").OkJsonAsync();
        Assert.DoesNotContain("secret-note", own.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Customer_ReadingAnotherCustomerOrAnotherOrg_Gets404()
    {
        var w = await WorldAsync();
        await w.Customer.GetAsync($"api/portal/customers/{w.OtherCustomerId}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await w.Customer.GetAsync($"api/portal/organizations/{w.OtherOrgId}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await w.Customer.SendJsonAsync(HttpMethod.Patch, $"api/portal/customers/{w.OtherCustomerId}/values", new { values = new { c_edit = "x" } }, "W/\"1\"").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await w.Customer.SendJsonAsync(HttpMethod.Patch, $"api/portal/organizations/{w.OtherOrgId}/values", new { values = new { o_edit = "x" } }, "W/\"1\"").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await w.Customer.GetAsync($"api/portal/customers/{Guid.NewGuid()}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Customer_WritesOnlyCustomerEditableFields()
    {
        var w = await WorldAsync();
        var url = $"api/portal/customers/{w.OwnCustomerId}/values";
        var edited = await w.Customer.SendJsonAsync(HttpMethod.Patch, url, new { values = new { c_edit = "changed by me" } }, "W/\"1\"").OkJsonAsync();
        Assert.Equal("changed by me", edited["values"]!["c_edit"]!.GetValue<string>());

        var viewOnly = await w.Customer.SendJsonAsync(HttpMethod.Patch, url, new { values = new { c_view = "x" } }, "W/\"2\"").ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(viewOnly["errors"]!["c_view"]);
        var internalField = await w.Customer.SendJsonAsync(HttpMethod.Patch, url, new { values = new { c_internal = "x" } }, "W/\"2\"").ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal("is not a field of this record", internalField["errors"]!["c_internal"]![0]!.GetValue<string>()); // does not even confirm it exists

        var orgEdit = await w.Customer.SendJsonAsync(HttpMethod.Patch, $"api/portal/organizations/{w.OwnOrgId}/values", new { values = new { o_edit = "org by me" } }, "W/\"1\"").OkJsonAsync();
        Assert.Equal("org by me", orgEdit["values"]!["o_edit"]!.GetValue<string>());

        var agentView = await w.Agent.GetAsync($"api/customers/{w.OwnCustomerId}").OkJsonAsync();
        Assert.Equal("secret-note", agentView["values"]!["c_internal"]!.GetValue<string>());
        Assert.Equal("visible", agentView["values"]!["c_view"]!.GetValue<string>());
    }

    [Fact]
    public async Task Agent_SeesEveryFieldOfEveryRecord_AndAdminToo()
    {
        var w = await WorldAsync();
        foreach (var client in new[] { w.Agent, w.Admin })
        {
            var other = await client.GetAsync($"api/customers/{w.OtherCustomerId}").OkJsonAsync();
            Assert.Equal(3, other["values"]!.AsObject().Count);
            var page = await client.GetAsync("api/organizations").OkJsonAsync();
            Assert.Equal(2, page["values"]!.AsArray().Count);
        }
    }

    [Fact]
    public async Task AgentWhoIsNotAJiraAdmin_IsAnAgent_BecauseTheCheckNamesTheServiceDeskProjects()
    {
        var site = await app.InstallSiteAsync();
        var agentId = "557058:plain-agent-" + Guid.NewGuid().ToString("N")[..8];
        var agent = app.As(site, SiteRole.Agent, agentId);
        await agent.GetAsync("api/organizations").OkJsonAsync();
        await app.As(site, SiteRole.Customer).GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        // Jira (and the simulator) answer project permissions only for the projects named: the old check, which named
        // none, gets no project for this agent and would have made them a customer.
        Assert.Empty(await AgentProjectsAsync(site, agentId, []));
        var named = await AgentProjectsAsync(site, agentId, [10000, 4242]);
        Assert.Equal(new long[] { 10000 }, named);
    }

    [Fact]
    public async Task OnASiteWithoutJsm_AdminsAreStillAdmins_AndNobodyIsAnAgent()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.JsmInstalled = false;
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        await admin.GetAsync("api/admin/sync").OkJsonAsync(HttpStatusCode.OK, array: true);
        await app.As(site, SiteRole.Agent).GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        // The install's directory sync ends at once, saying why, rather than retrying what cannot change.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        JsonObject run;
        do
        {
            await Task.Delay(100);
            run = (await admin.GetAsync("api/admin/sync").OkJsonAsync(HttpStatusCode.OK, array: true))[0]!.AsObject();
            Assert.True(DateTime.UtcNow < deadline, run.ToJsonString());
        }
        while (run["status"]!.GetValue<string>() is "queued" or "running");

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Contains("no Jira Service Management", run["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, run["errors"]!.GetValue<int>());
    }

    [Fact]
    public async Task MoreThan1000ServiceDeskProjects_AreCheckedInCallsOfAtMost1000()
    {
        var site = ConnectAppFixture.NewSite();
        for (var i = 1; i <= 1100; i++)
        {
            site.Directory.AddServiceDesk((20000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture), "P" + i);
        }

        await app.InstallAsync(site);
        var before = site.PermissionChecks;
        await app.As(site, SiteRole.Agent).GetAsync("api/organizations").OkJsonAsync();
        await app.As(site, SiteRole.Customer).GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        Assert.Equal(before + 1 + 2, site.PermissionChecks); // the agent is found in the first 1,000; the customer needs both calls
    }

    [Fact]
    public async Task AnAgentOfTheProjectInContext_IsAnAgent_EvenWhenThatProjectIsNotAListedServiceDesk()
    {
        var site = await app.InstallSiteAsync();
        HttpClient Client(string accountId, string? projectId)
        {
            site.AddUser(accountId, SiteRole.Agent);
            site.Users[accountId] = site.Users[accountId] with { AgentProjects = new HashSet<long> { 30000 } };
            var claims = AtlassianConnect.ConnectJwt.RequestClaims(site.ClientKey, AtlassianConnect.QueryStringHash.ContextQsh, DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5), accountId);
            if (projectId is not null)
            {
                claims["context"] = new { jira = new { project = new { id = projectId, key = "OPS" } } };
            }

            var client = app.Client();
            client.DefaultRequestHeaders.Authorization = new("JWT", AtlassianConnect.ConnectJwt.CreateSymmetric(claims, site.SharedSecret!));
            return client;
        }

        await Client("557058:ops-agent-in-context", "30000").GetAsync("api/organizations").OkJsonAsync();
        await Client("557058:ops-agent-elsewhere", null).GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await Client("557058:ops-agent-bad-context", "30000; DROP").GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    /// <summary>What the simulated site answers to a permissions/check for SERVICEDESK_AGENT on <paramref name="projects"/>, asked as the app.</summary>
    private async Task<long[]> AgentProjectsAsync(SimulatedSite site, string accountId, long[] projects)
    {
        const string path = "/rest/api/3/permissions/check";
        var claims = AtlassianConnect.ConnectJwt.RequestClaims(ConnectAppFixture.AppKey, AtlassianConnect.QueryStringHash.Compute("POST", path, string.Empty), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        using var client = app.Simulator.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(site.BaseUrl, path))
        {
            Content = JsonContent.Create(new { accountId, projectPermissions = new[] { new { permissions = new[] { "SERVICEDESK_AGENT" }, projects } } }),
        };
        request.Headers.Authorization = new("JWT", AtlassianConnect.ConnectJwt.CreateSymmetric(claims, site.SharedSecret!));
        var body = await client.SendAsync(request).OkJsonAsync();
        return body["projectPermissions"]![0]!["projects"]!.AsArray().Select(p => p!.GetValue<long>()).ToArray();
    }

    [Fact]
    public async Task Roles_AreCachedPerUser_NotAskedOfJiraOnEveryCall()
    {
        var w = await WorldAsync();
        var agent = app.As(w.Site, SiteRole.Agent);
        await agent.GetAsync("api/organizations").OkJsonAsync();
        var before = w.Site.PermissionChecks;
        for (var i = 0; i < 5; i++)
        {
            await agent.GetAsync("api/organizations").OkJsonAsync();
        }

        Assert.Equal(before, w.Site.PermissionChecks);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    [InlineData(404)]
    public async Task JiraUnableToAnswerTheRoleCheck_Is503_NeverAGuessedRole_AndNotCached(int jiraStatus)
    {
        var site = await app.InstallSiteAsync();
        var agent = app.As(site, SiteRole.Agent);
        site.FailPermissionChecksWith = jiraStatus;
        using var refused = await agent.GetAsync("api/organizations");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal("jira.unavailable", (await refused.Content.ReadFromJsonAsync<JsonObject>())!["code"]!.GetValue<string>());

        site.FailPermissionChecksWith = null;
        await agent.GetAsync("api/organizations").OkJsonAsync();
    }

    [Fact]
    public async Task ContextTokenWithoutUser_CannotUseThePortal()
    {
        var w = await WorldAsync();
        var anonymous = app.AsContext(w.Site, accountId: null);
        var response = await anonymous.GetAsync("api/portal/me");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
