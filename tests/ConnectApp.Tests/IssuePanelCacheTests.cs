using System.Net;
using ConnectApp.Persistence;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>
/// The issue panel serves what it read from the database until something of the site changes, in this process or any
/// other: a change made through the app is seen by the very next look; one made by another process (here: SQL on a
/// connection of its own) as soon as PostgreSQL's notification arrives; and when the app stops hearing notifications
/// it stops serving from the cache. A panel is kept from its second look on: one looked at once is not kept.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class IssuePanelCacheTests(ConnectAppFixture app)
{
    [Fact]
    public async Task IssuePanel_ShowsAChangeMadeThroughTheApp_OnTheVeryNextLook()
    {
        var (agent, customerId, accountId, site) = await SiteWithCustomerAsync();
        await app.As(site, SiteRole.Admin).SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "plan", label = "Plan", type = "text" })
            .OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("Cora Cached", await PanelNameAsync(agent, accountId));

        // Many times in a row, so a look between the write and the notification would be caught.
        for (var i = 0; i < 10; i++)
        {
            var plan = $"Plan {i}";
            var (_, etag) = await agent.GetWithETagAsync($"api/customers/{customerId}");
            await agent.SendJsonAsync(HttpMethod.Patch, $"api/customers/{customerId}/values", new { values = new { plan } }, etag).OkJsonAsync();
            var panel = await agent.GetAsync($"api/issue-panel?reporter={accountId}").OkJsonAsync();
            Assert.Equal(plan, panel["people"]![0]!["customer"]!["values"]!["plan"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task IssuePanel_ShowsAChangeMadeByAnotherProcess_OnceTheNotificationArrives_AndServesFromTheCacheMeanwhile()
    {
        var (agent, customerId, accountId, _) = await SiteWithCustomerAsync();
        await SettledAsync();
        await LookTwiceAsync(agent, accountId);

        // A change that does not notify (triggers off for this session): the panel keeps its copy, which shows the
        // copy is what it serves.
        await SqlAsync("SET session_replication_role = replica; UPDATE records SET name = 'Silent Change' WHERE id = @id", customerId);
        Assert.Equal("Cora Cached", await PanelNameAsync(agent, accountId));

        // Any change of the site that notifies, as another process's write would: the next looks read again.
        await SqlAsync("UPDATE records SET name = 'Changed Elsewhere' WHERE id = @id", customerId);
        await TenantTableCounts.WaitAsync(async () => await PanelNameAsync(agent, accountId) == "Changed Elsewhere", TimeSpan.FromSeconds(10), "the other process's change");
    }

    [Fact]
    public async Task IssuePanel_StopsServingFromTheCache_WhenItStopsHearingChanges()
    {
        var (agent, customerId, accountId, _) = await SiteWithCustomerAsync();
        await SettledAsync();
        await LookTwiceAsync(agent, accountId);
        await SqlAsync("SET session_replication_role = replica; UPDATE records SET name = 'Unheard Change' WHERE id = @id", customerId);

        // The listening connection is cut: whatever was missed meanwhile, the copies made before are never served again.
        var cut = await TenantTableCounts.ScalarAsync<long>(
            TenantTableCounts.Superuser(app.DatabaseConnectionString),
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND application_name = @name",
            ("name", TenantChangeListener.ApplicationName));
        Assert.Equal(1, cut);
        await TenantTableCounts.WaitAsync(async () => await PanelNameAsync(agent, accountId) == "Unheard Change", TimeSpan.FromSeconds(10), "the panel to read again");
    }

    [Fact]
    public async Task IssuePanel_LookedAtOnce_IsNotKept_LookedAtTwice_IsServedFromTheCache()
    {
        var (agent, customerId, accountId, _) = await SiteWithCustomerAsync();
        await SettledAsync();

        // One look: not kept (most panels of a busy site are looked at once; keeping them only made garbage), so a
        // change the app cannot hear is read by the next look.
        Assert.Equal("Cora Cached", await PanelNameAsync(agent, accountId));
        await SqlAsync("SET session_replication_role = replica; UPDATE records SET name = 'Read Again' WHERE id = @id", customerId);
        Assert.Equal("Read Again", await PanelNameAsync(agent, accountId));

        // That was the second look: kept from now on, so the next unheard change is not seen.
        await SqlAsync("SET session_replication_role = replica; UPDATE records SET name = 'Not Read' WHERE id = @id", customerId);
        Assert.Equal("Read Again", await PanelNameAsync(agent, accountId));
    }

    private async Task<(HttpClient Agent, string CustomerId, string AccountId, SimulatedSite Site)> SiteWithCustomerAsync()
    {
        var site = await app.InstallSiteAsync();
        var agent = app.As(site, SiteRole.Agent);
        var accountId = "557058:cora-" + Guid.NewGuid().ToString("N")[..8];
        var customer = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId, name = "Cora Cached" }).OkJsonAsync(HttpStatusCode.Created);
        return (agent, customer["id"]!.GetValue<string>(), accountId, site);
    }

    // The setup's writes move the site's stamp twice: at commit in this process, and again when PostgreSQL's
    // notification of them arrives a moment later. Copies made between the two are not served; wait past the second.
    private static Task SettledAsync() => Task.Delay(TimeSpan.FromMilliseconds(500));

    // A panel is kept from its second look on (IssuePanelCache's doorkeeper).
    private static async Task LookTwiceAsync(HttpClient agent, string accountId)
    {
        Assert.Equal("Cora Cached", await PanelNameAsync(agent, accountId));
        Assert.Equal("Cora Cached", await PanelNameAsync(agent, accountId));
    }

    private static async Task<string> PanelNameAsync(HttpClient agent, string accountId) =>
        (await agent.GetAsync($"api/issue-panel?reporter={accountId}").OkJsonAsync())["people"]![0]!["customer"]!["name"]!.GetValue<string>();

    private async Task SqlAsync(string sql, string recordId)
    {
        await using var connection = new NpgsqlConnection(TenantTableCounts.Superuser(app.DatabaseConnectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("id", Guid.Parse(recordId));
        await command.ExecuteNonQueryAsync();
    }
}
