using ConnectApp.Retention;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ConnectApp.Tests;

/// <summary>An app of its own on a fake clock with SYNC_INTERVAL_MINUTES=60: Quartz follows the clock, so a test moves an hour forward instead of waiting.</summary>
public sealed class ScheduledSyncApp : IAsyncLifetime
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public ConnectAppFixture App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = new ConnectAppFixture(Clock, new Dictionary<string, string> { ["SYNC_INTERVAL_MINUTES"] = "60" })
        {
            ConfigureServices = services => services.PostConfigure<RetentionOptions>(o => o.SchedulerIdleWait = TimeSpan.FromSeconds(1)),
        };
        await App.InitializeAsync();
    }

    public Task DisposeAsync() => App.DisposeAsync();
}

/// <summary>
/// The incremental sync on its Quartz schedule: what changed in JSM between two syncs (adds, renames, removals,
/// membership changes) is there after the scheduled run, exactly, under a 429 storm; a site synced less than the
/// interval ago is left alone. Checked in the database (the clock has moved past the test's context tokens).
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class ScheduledSyncTests(ScheduledSyncApp fixture) : IClassFixture<ScheduledSyncApp>
{
    private ConnectAppFixture App => fixture.App;

    [Fact]
    public async Task TheScheduledSync_PicksUpEveryChangeBetweenTwoSyncs_UnderA429Storm_AndWaitsForItsInterval()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 6, customers: 300);
        await App.InstallAsync(site);
        var tenantId = (await TenantRows.FindAsync(App.DatabaseConnectionString, site.ClientKey))!.Id;
        await WaitForRunAsync(tenantId, "install", 1);

        // Between two syncs, in JSM: every kind of change.
        var orgs = site.Directory.Organizations;
        var added = site.Directory.AddOrganization("Added Between Syncs");
        site.Directory.AddCustomer("557058:added-between", "Added Between", "added@example.com");
        site.Directory.AddMember(added.Id, "557058:added-between");
        site.Directory.AddMember(added.Id, "557058:gen9-0000010");
        site.Directory.RenameOrganization(orgs[0].Id, "Renamed Between Syncs");
        site.Directory.RenameCustomer("557058:gen9-0000001", "Renamed Person", "renamed@example.com");
        site.Directory.RemoveCustomer("557058:gen9-0000002");
        site.Directory.RemoveOrganization(orgs[5].Id);
        site.Directory.RemoveMember(orgs[3].Id, "557058:gen9-0000003");
        site.Faults = new SiteFaults(Every: 3, Status: 429, RetryAfterSeconds: 1);

        // Less than the interval: the schedule ticks (every 5 minutes) but queues nothing.
        fixture.Clock.Advance(TimeSpan.FromMinutes(30));
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(0, await RunCountAsync(tenantId, "schedule"));

        fixture.Clock.Advance(TimeSpan.FromMinutes(31));
        await WaitForRunAsync(tenantId, "schedule", 1, TimeSpan.FromSeconds(180));
        Assert.True(site.InjectedFaults >= 5, $"only {site.InjectedFaults} faults were injected");

        var (organizations, customers, memberships) = await StoredAsync(tenantId);
        Assert.Equal(site.Directory.Organizations.ToDictionary(o => o.Id, o => o.Name), organizations.Where(o => !o.Value.Removed).ToDictionary(o => o.Key, o => o.Value.Name));
        Assert.True(organizations[orgs[5].Id].Removed);
        Assert.Equal("Renamed Between Syncs", organizations[orgs[0].Id].Name);
        Assert.Equal(site.Directory.CustomerCount, customers.Count(c => !c.Value.Removed));
        Assert.True(customers["557058:gen9-0000002"].Removed);
        Assert.Equal(("Renamed Person", "renamed@example.com"), (customers["557058:gen9-0000001"].Name, customers["557058:gen9-0000001"].Email));
        Assert.Equal(("Added Between", "added@example.com"), (customers["557058:added-between"].Name, customers["557058:added-between"].Email));
        var expected = site.Directory.Organizations.SelectMany(o => site.Directory.MembersOf(o.Id).Select(a => (a, o.Id))).ToHashSet();
        Assert.Equal(expected.Order(), memberships.Where(m => !organizations[m.Organization].Removed && !customers[m.Customer].Removed).Order()); // a removed record keeps what it had
        Assert.Contains(("557058:gen9-0000010", added.Id), memberships);
        Assert.DoesNotContain(("557058:gen9-0000003", orgs[3].Id), memberships);

        // Nothing created twice: one record.created per record.
        Assert.Equal(organizations.Count + customers.Count, await TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString,
            "SELECT count(DISTINCT record_id) FROM audit_entries WHERE tenant_id = @t AND action = 'record.created'", ("t", tenantId)));
        Assert.Equal(organizations.Count + customers.Count, await TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString,
            "SELECT count(*) FROM audit_entries WHERE tenant_id = @t AND action = 'record.created'", ("t", tenantId)));

        // Synced just now (the wait above moved the clock a few minutes at most): the next ticks leave it alone until the interval has passed again.
        fixture.Clock.Advance(TimeSpan.FromMinutes(20));
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(1, await RunCountAsync(tenantId, "schedule"));
    }

    private Task<long> RunCountAsync(Guid tenantId, string trigger) =>
        TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString, "SELECT count(*) FROM directory_sync_runs WHERE tenant_id = @t AND trigger = @g", ("t", tenantId), ("g", trigger));

    private async Task WaitForRunAsync(Guid tenantId, string trigger, int succeeded, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (await TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString,
            "SELECT count(*) FROM directory_sync_runs WHERE tenant_id = @t AND trigger = @g AND status IN ('Succeeded', 'Failed', 'Skipped')", ("t", tenantId), ("g", trigger)) < succeeded)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the {trigger} sync did not finish: " + await RunsAsync(tenantId));
            await Task.Delay(100);
            fixture.Clock.Advance(TimeSpan.FromSeconds(1)); // the JSM client waits out Retry-After on the app's clock
        }

        Assert.True(succeeded == await TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString,
            "SELECT count(*) FROM directory_sync_runs WHERE tenant_id = @t AND trigger = @g AND status = 'Succeeded'", ("t", tenantId), ("g", trigger)), await RunsAsync(tenantId));
    }

    private async Task<string> RunsAsync(Guid tenantId) =>
        await TenantTableCounts.ScalarAsync<string>(App.DatabaseConnectionString, "SELECT string_agg(trigger || ':' || status || ':' || phase || ':' || coalesce(error, ''), ', ') FROM directory_sync_runs WHERE tenant_id = @t", ("t", tenantId))
        + " | outbox: " + await TenantTableCounts.ScalarAsync<string>(App.DatabaseConnectionString, "SELECT string_agg(type || ':' || coalesce(sent_at::text, 'unsent') || ':' || coalesce(applied_at::text, 'unapplied'), ', ') FROM outbox_messages WHERE tenant_id = @t AND type LIKE 'sync%'", ("t", tenantId));

    private async Task<(Dictionary<string, (string Name, string? Email, bool Removed)> Organizations, Dictionary<string, (string Name, string? Email, bool Removed)> Customers, HashSet<(string Customer, string Organization)> Memberships)> StoredAsync(Guid tenantId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(TenantTableCounts.Superuser(App.DatabaseConnectionString));
        await connection.OpenAsync();
        var orgs = new Dictionary<string, (string, string?, bool)>(StringComparer.Ordinal);
        var customers = new Dictionary<string, (string, string?, bool)>(StringComparer.Ordinal);
        await using (var read = new Npgsql.NpgsqlCommand("SELECT entity, external_id, name, email, removed_at IS NOT NULL FROM records WHERE tenant_id = @t", connection))
        {
            read.Parameters.AddWithValue("t", tenantId);
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var target = reader.GetString(0) == "Organization" ? orgs : customers;
                Assert.True(target.TryAdd(reader.GetString(1), (reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetBoolean(4))), "duplicate " + reader.GetString(1));
            }
        }

        var memberships = new HashSet<(string, string)>();
        await using (var read = new Npgsql.NpgsqlCommand("SELECT c.external_id, o.external_id FROM memberships m JOIN records c ON c.id = m.customer_id JOIN records o ON o.id = m.organization_id WHERE m.tenant_id = @t", connection))
        {
            read.Parameters.AddWithValue("t", tenantId);
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                memberships.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        return (orgs, customers, memberships);
    }
}

/// <summary>Two syncs of one site never run at once, whatever queued them (install, admin, schedule): the later one is skipped.</summary>
[Collection(AppCollection.Name)]
public sealed class SyncExclusionTests(ConnectAppFixture app)
{
    [Fact]
    public async Task TwoRunsOfOneSite_NeverRunAtOnce_TheOneThatFindsTheOtherRunning_IsSkipped_AndChangesNothing()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 4, customers: 400);
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        await SyncTesting.WaitForLatestAsync(admin);
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        site.Faults = new SiteFaults(Latency: TimeSpan.FromMilliseconds(50)); // the first run reads for a second or more

        async Task<Guid> QueueAsync()
        {
            await using var scope = app.App.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<ConnectApp.Persistence.TenantScope>().Enter(tenantId);
            var db = scope.ServiceProvider.GetRequiredService<ConnectApp.Persistence.AppDbContext>();
            var run = new ConnectApp.Sync.DirectorySyncRun { Id = Guid.NewGuid(), TenantId = tenantId, Status = ConnectApp.Sync.SyncStatus.Queued, Trigger = "schedule", RequestedBy = "test", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
            db.Set<ConnectApp.Sync.DirectorySyncRun>().Add(run);
            await db.SaveChangesAsync();
            return run.Id;
        }

        async Task RunAsync(Guid runId)
        {
            await using var scope = app.App.Services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<ConnectApp.Persistence.TenantScope>().Enter(tenantId);
            await scope.ServiceProvider.GetRequiredService<ConnectApp.Sync.DirectorySyncer>().RunAsync(runId, CancellationToken.None);
        }

        var first = await QueueAsync();
        var second = await QueueAsync();
        var running = RunAsync(first);
        await TenantTableCounts.WaitAsync(async () => await TenantTableCounts.ScalarAsync<string>(app.DatabaseConnectionString, "SELECT status FROM directory_sync_runs WHERE id = @i", ("i", first)) == "Running",
            TimeSpan.FromSeconds(30), "the first run to start");
        await RunAsync(second);
        Assert.False(running.IsCompleted, "the first run ended before the second started; the test proves nothing");
        await running;

        var firstRun = await admin.GetAsync($"api/admin/sync/{first}").OkJsonAsync();
        var secondRun = await admin.GetAsync($"api/admin/sync/{second}").OkJsonAsync();
        Assert.Equal("succeeded", firstRun["status"]!.GetValue<string>());
        Assert.Equal("skipped", secondRun["status"]!.GetValue<string>());
        Assert.Equal(0, secondRun["fetched"]!.GetValue<long>());
        Assert.Contains("Another sync of this site was running", secondRun["error"]!.GetValue<string>(), StringComparison.Ordinal);

        // Once the first is done, the lock is free again.
        site.Faults = new SiteFaults();
        Assert.Equal("succeeded", (await SyncTesting.SyncAsync(admin))["status"]!.GetValue<string>());
    }
}
