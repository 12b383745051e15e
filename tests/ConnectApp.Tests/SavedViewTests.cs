using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>
/// Saved directory views and column choices, kept per agent on the server (the app's iframe may not use browser
/// storage): private unless shared, changed only by their owner, checked as the search checks a query, never seen by
/// another site, and erased with their owner's account.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class SavedViewTests(ConnectAppFixture app)
{
    [Fact]
    public async Task Views_ArePrivateUnlessShared_AndOnlyTheirOwnerChangesThem()
    {
        var (site, admin, _) = await SiteWithFieldsAsync();
        var alice = app.As(site, SiteRole.Agent);
        var bob = app.As(site, SiteRole.Agent);
        var gold = await alice.SendJsonAsync(HttpMethod.Post, "api/views", new
        {
            entity = "organization",
            name = " Gold accounts ",
            shared = true,
            definition = new { q = " acme ", filters = new object[] { new { field = "tier", op = "in", values = new[] { "Gold" } }, new { field = "seats", op = "range", gte = 10 } }, sort = "-seats", showRemoved = true, columns = new[] { "seats", "tier" } },
        }).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("Gold accounts", gold["name"]!.GetValue<string>());
        Assert.Equal("acme", gold["definition"]!["q"]!.GetValue<string>());
        Assert.Equal(["seats", "tier"], gold["definition"]!["columns"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.True(gold["mine"]!.GetValue<bool>());
        var mine = await alice.SendJsonAsync(HttpMethod.Post, "api/views", new { entity = "organization", name = "Mine only", definition = new { q = "x" } }).OkJsonAsync(HttpStatusCode.Created);
        await alice.SendJsonAsync(HttpMethod.Post, "api/views", new { entity = "customer", name = "Mine only" }).OkJsonAsync(HttpStatusCode.Created); // same name, other tab

        // Bob sees the shared view (not his to change) and not Alice's private one, which does not exist for him.
        var bobs = await ListAsync(bob, "organization");
        Assert.Equal(["Gold accounts"], bobs.Select(v => v["name"]!.GetValue<string>()));
        Assert.False(bobs[0]["mine"]!.GetValue<bool>());
        Assert.Equal(gold["definition"]!.ToJsonString(), bobs[0]["definition"]!.ToJsonString());
        await bob.SendJsonAsync(HttpMethod.Put, $"api/views/{gold["id"]}", new { name = "Hijacked" }).ProblemAsync(HttpStatusCode.Forbidden, "view.not_owner");
        await bob.DeleteAsync($"api/views/{gold["id"]}").ProblemAsync(HttpStatusCode.Forbidden, "view.not_owner");
        await bob.SendJsonAsync(HttpMethod.Put, $"api/views/{mine["id"]}", new { name = "Hijacked" }).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await bob.DeleteAsync($"api/views/{mine["id"]}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(["Gold accounts", "Mine only"], (await ListAsync(alice, "organization")).Select(v => v["name"]!.GetValue<string>()));
        Assert.Equal(3, (await ListAsync(alice, null)).Count);

        // Alice unshares it: Bob no longer sees it. Her rename keeps it hers.
        var renamed = await alice.SendJsonAsync(HttpMethod.Put, $"api/views/{gold["id"]}", new { name = "Gold", shared = false, definition = new { filters = new[] { new { field = "tier", op = "equals", value = "Silver" } } } }).OkJsonAsync();
        Assert.Equal("Gold", renamed["name"]!.GetValue<string>());
        Assert.False(renamed["shared"]!.GetValue<bool>());
        Assert.Empty(await ListAsync(bob, "organization"));

        // A site admin may delete a shared view of someone else (moderation), never see a private one.
        await alice.SendJsonAsync(HttpMethod.Put, $"api/views/{gold["id"]}", new { name = "Gold", shared = true }).OkJsonAsync();
        await admin.DeleteAsync($"api/views/{mine["id"]}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        using (var deleted = await admin.DeleteAsync($"api/views/{gold["id"]}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(["Mine only"], (await ListAsync(alice, "organization")).Select(v => v["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task BadViews_AreRefusedWithCodedProblems_AndChangeNothing()
    {
        var (site, _, tenantId) = await SiteWithFieldsAsync();
        var agent = app.As(site, SiteRole.Agent);
        var kept = await agent.SendJsonAsync(HttpMethod.Post, "api/views", new { entity = "organization", name = "Kept" }).OkJsonAsync(HttpStatusCode.Created);
        var admin = app.As(site, SiteRole.Admin);
        var token = (await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "views", scopes = new[] { "read", "write" } }).OkJsonAsync(HttpStatusCode.Created))["token"]!.GetValue<string>();
        TestLog.RecordSecret(token);
        using var bearer = app.Client();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        (await bearer.GetAsync("api/organizations")).Dispose(); // its first use is recorded on the token; after this, refusals must change nothing
        var before = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId);

        var invalid = new object[]
        {
            new { name = "No entity" },
            new { entity = "organization" },
            new { entity = "organization", name = new string('n', 101) },
            new { entity = "organization", name = "Unknown field", definition = new { filters = new[] { new { field = "nope", op = "equals", value = "x" } } } },
            new { entity = "organization", name = "Wrong op", definition = new { filters = new[] { new { field = "seats", op = "contains", value = "x" } } } },
            new { entity = "organization", name = "Wrong value", definition = new { filters = new[] { new { field = "tier", op = "equals", value = "Platinum" } } } },
            new { entity = "organization", name = "Customer field", definition = new { columns = new[] { "motto" } } },
            new { entity = "organization", name = "Bad sort", definition = new { sort = "-nope" } },
            new { entity = "organization", name = "Long text", definition = new { q = new string('q', 201) } },
        };
        foreach (var body in invalid)
        {
            await agent.SendJsonAsync(HttpMethod.Post, "api/views", body).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        }

        await agent.SendJsonAsync(HttpMethod.Post, "api/views", new { entity = "organization", name = "Kept" }).ProblemAsync(HttpStatusCode.Conflict, "view.duplicate");
        await agent.SendJsonAsync(HttpMethod.Put, $"api/views/{kept["id"]}", new { entity = "customer", name = "Kept" }).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await agent.SendJsonAsync(HttpMethod.Put, "api/me/columns/customers", new { columns = new[] { "seats" } }).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await agent.SendJsonAsync(HttpMethod.Put, "api/me/columns/customers", new { }).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await agent.GetAsync("api/views?entity=organizations").ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");

        // Customers have no directory; API tokens are no one's, so they keep no views (refused as any endpoint not open to tokens).
        await app.As(site, SiteRole.Customer).GetAsync("api/views").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await bearer.GetAsync("api/views").ProblemAsync(HttpStatusCode.Forbidden, "api_token.not_allowed");
        await bearer.SendJsonAsync(HttpMethod.Post, "api/views", new { entity = "organization", name = "Robot" }).ProblemAsync(HttpStatusCode.Forbidden, "api_token.not_allowed");
        await bearer.SendJsonAsync(HttpMethod.Put, "api/me/columns/organizations", new { columns = new[] { "tier" } }).ProblemAsync(HttpStatusCode.Forbidden, "api_token.not_allowed");

        Assert.Equal(before, await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId));
        Assert.Equal(["Kept"], (await ListAsync(agent, null)).Select(v => v["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ColumnChoices_ArePerPersonAndTab_AndDropFieldsArchivedSince()
    {
        var (site, admin, _) = await SiteWithFieldsAsync();
        var alice = app.As(site, SiteRole.Agent);
        var bob = app.As(site, SiteRole.Agent);
        var none = await alice.GetAsync("api/me/columns").OkJsonAsync();
        Assert.Null(none["organization"]);
        Assert.Null(none["customer"]);

        await alice.SendJsonAsync(HttpMethod.Put, "api/me/columns/organizations", new { columns = new[] { "seats", "tier", "seats" } }).OkJsonAsync();
        await alice.SendJsonAsync(HttpMethod.Put, "api/me/columns/customers", new { columns = Array.Empty<string>() }).OkJsonAsync();
        var chosen = await alice.GetAsync("api/me/columns").OkJsonAsync();
        Assert.Equal(["seats", "tier"], chosen["organization"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Empty(chosen["customer"]!.AsArray());
        Assert.Null((await bob.GetAsync("api/me/columns").OkJsonAsync())["organization"]);

        // Choosing again replaces; a field archived since is left out rather than breaking the directory.
        await alice.SendJsonAsync(HttpMethod.Put, "api/me/columns/organizations", new { columns = new[] { "tier", "seats" } }).OkJsonAsync();
        var seats = (await admin.GetAsync("api/fields").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray().Single(f => f!["key"]!.GetValue<string>() == "seats")!;
        var (_, etag) = await admin.GetWithETagAsync($"api/fields/{seats["id"]}");
        await admin.SendJsonAsync(HttpMethod.Patch, $"api/admin/fields/{seats["id"]}", new { archived = true }, etag).OkJsonAsync();
        Assert.Equal(["tier"], (await alice.GetAsync("api/me/columns").OkJsonAsync())["organization"]!.AsArray().Select(c => c!.GetValue<string>()));
    }

    [Fact]
    public async Task AnotherSite_NeverSeesAViewOrColumnChoice_EvenWithTheSameAccount()
    {
        var (siteA, _, _) = await SiteWithFieldsAsync();
        var (siteB, _, _) = await SiteWithFieldsAsync();
        const string account = "557058:agent-on-two-sites";
        var onA = app.As(siteA, SiteRole.Agent, account);
        var onB = app.As(siteB, SiteRole.Agent, account);
        var view = await onA.SendJsonAsync(HttpMethod.Post, "api/views", new { entity = "organization", name = "Site A only", shared = true }).OkJsonAsync(HttpStatusCode.Created);
        await onA.SendJsonAsync(HttpMethod.Put, "api/me/columns/organizations", new { columns = new[] { "tier" } }).OkJsonAsync();

        Assert.Empty(await ListAsync(onB, null));
        Assert.Null((await onB.GetAsync("api/me/columns").OkJsonAsync())["organization"]);
        await onB.SendJsonAsync(HttpMethod.Put, $"api/views/{view["id"]}", new { name = "Taken" }).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await onB.DeleteAsync($"api/views/{view["id"]}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Single(await ListAsync(onA, null));
    }

    [Fact]
    public async Task DeletedAccount_LosesPrivateViewsAndColumns_SharedViewsStayWithoutItsName()
    {
        var (site, admin, tenantId) = await SiteWithFieldsAsync();
        const string account = "557058:vera-views";
        var vera = app.As(site, SiteRole.Agent, account);
        var other = app.As(site, SiteRole.Agent);
        await vera.SendJsonAsync(HttpMethod.Post, "api/views", new { entity = "organization", name = "Vera private" }).OkJsonAsync(HttpStatusCode.Created);
        await vera.SendJsonAsync(HttpMethod.Post, "api/views", new { entity = "organization", name = "Team gold", shared = true }).OkJsonAsync(HttpStatusCode.Created);
        await vera.SendJsonAsync(HttpMethod.Put, "api/me/columns/organizations", new { columns = new[] { "tier" } }).OkJsonAsync();
        Assert.Equal(3L, await OwnedByAsync(tenantId, account));

        Assert.Equal([HttpStatusCode.Accepted], await site.DeleteUserAsync(account));
        await TenantTableCounts.WaitAsync(async () => await OwnedByAsync(tenantId, account) == 0, TimeSpan.FromSeconds(30), "the erasure of the agent's views");
        Assert.Equal(1L, await OwnedByAsync(tenantId, "closed-account"));
        Assert.Equal(["Team gold"], (await ListAsync(other, null)).Select(v => v["name"]!.GetValue<string>()));
        Assert.Equal(0L, await CountAsync(tenantId, "directory_columns"));
        var orphan = (await ListAsync(admin, null)).Single();
        using var deleted = await admin.DeleteAsync($"api/views/{orphan["id"]}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task Export_HoldsTheViewsAndColumnChoices()
    {
        var (site, admin, _) = await SiteWithFieldsAsync();
        const string account = "557058:export-views";
        var agent = app.As(site, SiteRole.Agent, account);
        await agent.SendJsonAsync(HttpMethod.Post, "api/views", new { entity = "organization", name = "Exported", definition = new { q = "acme", columns = new[] { "tier" } } }).OkJsonAsync(HttpStatusCode.Created);
        await agent.SendJsonAsync(HttpMethod.Put, "api/me/columns/organizations", new { columns = new[] { "seats" } }).OkJsonAsync();

        var export = await admin.GetAsync("api/admin/export").OkJsonAsync();
        Assert.Equal(1, export["counts"]!["savedViews"]!.GetValue<int>());
        Assert.Equal(1, export["counts"]!["directoryColumns"]!.GetValue<int>());
        var view = export["savedViews"]!.AsArray().Single()!;
        Assert.Equal(account, view["ownerAccountId"]!.GetValue<string>());
        Assert.Equal("acme", view["definition"]!["q"]!.GetValue<string>());
        var columns = export["directoryColumns"]!.AsArray().Single()!;
        Assert.Equal(["seats"], columns["columns"]!.AsArray().Select(c => c!.GetValue<string>()));
    }

    private async Task<(SimulatedSite Site, HttpClient Admin, Guid TenantId)> SiteWithFieldsAsync()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" } }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "seats", label = "Seats", type = "number" }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "motto", label = "Motto", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        return (site, admin, (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id);
    }

    private static async Task<List<JsonNode>> ListAsync(HttpClient client, string? entity) =>
        [.. (await client.GetAsync(entity is null ? "api/views" : $"api/views?entity={entity}").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray().Select(v => v!)];

    private Task<long> OwnedByAsync(Guid tenantId, string account) =>
        TenantTableCounts.ScalarAsync<long>(
            app.DatabaseConnectionString,
            "SELECT (SELECT count(*) FROM saved_views WHERE tenant_id = @t AND owner_account_id = @a) + (SELECT count(*) FROM directory_columns WHERE tenant_id = @t AND account_id = @a)",
            ("t", tenantId),
            ("a", account));

    private Task<long> CountAsync(Guid tenantId, string table) =>
        TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, $"SELECT count(*) FROM {table} WHERE tenant_id = @t", ("t", tenantId));
}
