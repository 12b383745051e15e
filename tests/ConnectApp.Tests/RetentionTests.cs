using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Retention;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ConnectApp.Tests;

/// <summary>
/// An app of its own whose clock is a <see cref="FakeTimeProvider"/>: the app, the Connect library and Quartz (which
/// reads the container's TimeProvider) all follow it, so a test moves 90 days forward instead of waiting. Quartz runs
/// for real (clustered ADO.NET store in this run's database); its idle wait is a second so it notices the jump quickly.
/// </summary>
public abstract class RetentionAppBase(IReadOnlyDictionary<string, string> settings) : IAsyncLifetime
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    public ConnectAppFixture App { get; private set; } = null!;

    /// <summary>Lifecycle callbacks signed at the fake clock's time (the app checks their expiry against it).</summary>
    public ConnectAppInstaller Installer => new(App.Keys, Clock);

    public async Task InitializeAsync()
    {
        App = new ConnectAppFixture(Clock, settings)
        {
            ConfigureServices = services => services.PostConfigure<RetentionOptions>(o => o.SchedulerIdleWait = TimeSpan.FromSeconds(1)),
        };
        await App.InitializeAsync();
    }

    public Task DisposeAsync() => App.DisposeAsync();
}

/// <summary>RETENTION_DAYS and INACTIVITY_DAYS unset: 90 days, never.</summary>
public sealed class RetentionApp() : RetentionAppBase(new Dictionary<string, string>());

/// <summary>INACTIVITY_DAYS=30.</summary>
public sealed class InactivityRetentionApp() : RetentionAppBase(new Dictionary<string, string> { ["INACTIVITY_DAYS"] = "30" });

/// <summary>What a tenant is made of for these tests: every kind of tenant-owned row, through the real API.</summary>
internal static class RetentionData
{

    public static async Task<SimulatedSite> FillAsync(ConnectAppFixture app)
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        var account = "557058:c-" + Guid.NewGuid().ToString("N")[..8];
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" }, visibility = "customers-edit" }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "note", label = "Note", type = "text", visibility = "customers-edit" }).OkJsonAsync(HttpStatusCode.Created);
        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Acme", values = new { tier = "Gold" } }).OkJsonAsync(HttpStatusCode.Created);
        await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = account, name = "Carol", organizationIds = new[] { org["id"]!.GetValue<string>() }, values = new { note = "vip" } }).OkJsonAsync(HttpStatusCode.Created);
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{org["id"]}/values", new { values = new { tier = "Silver" } }, "W/\"1\"").OkJsonAsync();
        using var csv = new StringContent("jsmId,name,tier\n2,Globex,Gold\n3,Initech,Silver\n", Encoding.UTF8, "text/csv");
        await agent.PostAsync("api/imports?entity=organization", csv).OkJsonAsync(HttpStatusCode.Accepted);
        var token = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "integration", scopes = new[] { "read" } }).OkJsonAsync(HttpStatusCode.Created);
        TestLog.RecordSecret(token["token"]!.GetValue<string>());
        return site;
    }

    /// <summary>Waits until the background work of the fill is done: import finished, every outbox message applied, search documents there.</summary>
    public static async Task SettleAsync(ConnectAppFixture app, params Guid[] tenants)
    {
        // Only these tenants' work: the shared app's other tests keep their own messages and imports in flight.
        await TenantTableCounts.WaitAsync(async () =>
            await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM outbox_messages WHERE applied_at IS NULL AND tenant_id = ANY(@t)", ("t", tenants)) == 0
            && await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM import_jobs WHERE status NOT IN ('Succeeded', 'Failed') AND tenant_id = ANY(@t)", ("t", tenants)) == 0,
            TimeSpan.FromSeconds(90), "the fill's background work");
        foreach (var tenant in tenants)
        {
            var counts = await TenantTableCounts.CountAsync(app.DatabaseConnectionString, tenant);
            Assert.True(counts["search_documents"] >= 4, "search documents indexed: " + counts["search_documents"]);
        }
    }

    public static async Task<Guid> TenantIdAsync(ConnectAppFixture app, SimulatedSite site) => (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;

    public static Task<long> TriggerCountAsync(ConnectAppFixture app, Guid tenantId) =>
        TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM qrtz_triggers WHERE trigger_name = @n", ("n", "purge-" + tenantId.ToString("N")));

    public static Task<long> PurgeCountAsync(ConnectAppFixture app, Guid tenantId, string state) =>
        TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM tenant_purges WHERE purged_tenant_id = @t AND state = @s", ("t", tenantId), ("s", state));

    public static string Sha256(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}

/// <summary>Issue 8's end-to-end test: uninstall, 89 days (nothing), reinstall (cancelled), uninstall, 90 days (purged).</summary>
/// <remarks>In the faults collection: one heavy app at a time besides the shared one (the PostgreSQL server's connections are shared by every run).</remarks>
[Collection(FaultCollection.Name)]
public sealed class RetentionTests(RetentionApp fixture) : IClassFixture<RetentionApp>
{
    private ConnectAppFixture App => fixture.App;

    [Fact]
    public async Task Uninstall_89DaysKeepsEverything_ReinstallCancels_UninstallAgainThen90Days_PurgesEveryTenantTable()
    {
        var purged = await RetentionData.FillAsync(App);
        var kept = await RetentionData.FillAsync(App);
        var purgedId = await RetentionData.TenantIdAsync(App, purged);
        var keptId = await RetentionData.TenantIdAsync(App, kept);
        await RetentionData.SettleAsync(App, purgedId, keptId);
        var keptBefore = await TenantRows.ChecksumAsync(App.DatabaseConnectionString, keptId); // under row-level security, as the tenant
        var keptCountsBefore = await TenantTableCounts.CountAsync(App.DatabaseConnectionString, keptId); // as the superuser, no policy
        var purgedCountsBefore = await TenantTableCounts.CountAsync(App.DatabaseConnectionString, purgedId);
        Assert.All(new[] { "records", "audit_entries", "import_jobs", "api_tokens", "search_documents", "field_definitions" }, t => Assert.True(purgedCountsBefore[t] > 0, t));

        // Uninstall: the lifecycle's outbox message makes the worker add a Quartz trigger at uninstall + 90 days.
        using (var uninstall = await fixture.Installer.UninstallAsync(App.Client(), purged))
        {
            Assert.Equal(HttpStatusCode.NoContent, uninstall.StatusCode);
        }

        await TenantTableCounts.WaitAsync(async () => await RetentionData.TriggerCountAsync(App, purgedId) == 1, TimeSpan.FromSeconds(30), "the purge trigger");
        purgedCountsBefore = await TenantTableCounts.CountAsync(App.DatabaseConnectionString, purgedId); // with the uninstall's own lifecycle row and message
        var ready = await App.Client().GetAsync("/health/ready").OkJsonAsync();
        var scheduled = ready["checks"]!["retention"]!["data"]!["scheduledPurges"]!.AsArray();
        var entry = Assert.Single(scheduled, s => s!["tenant"]!.GetValue<string>() == RetentionData.Sha256(purged.ClientKey));
        Assert.Equal(fixture.Clock.GetUtcNow().AddDays(90).Date, entry!["dueAt"]!.GetValue<DateTimeOffset>().UtcDateTime.Date);
        Assert.DoesNotContain(purged.ClientKey, ready.ToJsonString(), StringComparison.Ordinal);

        // 89 days later nothing is deleted (the daily sweep misfires and runs once too: it must not purge either).
        fixture.Clock.Advance(TimeSpan.FromDays(89));
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(purgedCountsBefore, await TenantTableCounts.CountAsync(App.DatabaseConnectionString, purgedId));
        Assert.Equal(0, await TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString, "SELECT count(*) FROM tenant_purges"));
        Assert.Equal(1, await RetentionData.TriggerCountAsync(App, purgedId));

        // Reinstall on day 89: the trigger is cancelled and the data stay.
        using (var reinstall = await fixture.Installer.InstallAsync(App.Client(), purged))
        {
            Assert.Equal(HttpStatusCode.NoContent, reinstall.StatusCode);
        }

        await TenantTableCounts.WaitAsync(async () => await RetentionData.TriggerCountAsync(App, purgedId) == 0, TimeSpan.FromSeconds(30), "the trigger's cancellation");
        fixture.Clock.Advance(TimeSpan.FromDays(2)); // past the first due date: nothing may fire
        await Task.Delay(TimeSpan.FromSeconds(3));
        var afterReinstall = await TenantTableCounts.CountAsync(App.DatabaseConnectionString, purgedId);
        // A reinstall writes its lifecycle row and messages, and queues a directory sync run; nothing else changes.
        Assert.All(purgedCountsBefore.Where(c => c.Key is not ("tenant_lifecycle_events" or "outbox_messages" or "directory_sync_runs")), c => Assert.Equal(c.Value, afterReinstall[c.Key]));
        Assert.Equal(0, await TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString, "SELECT count(*) FROM tenant_purges"));

        // Uninstall again; 90 days later every tenant-owned table (found from the schema) and the index are empty for it.
        using (var uninstall = await fixture.Installer.UninstallAsync(App.Client(), purged))
        {
            Assert.Equal(HttpStatusCode.NoContent, uninstall.StatusCode);
        }

        await TenantTableCounts.WaitAsync(async () => await RetentionData.TriggerCountAsync(App, purgedId) == 1, TimeSpan.FromSeconds(30), "the new purge trigger");
        fixture.Clock.Advance(TimeSpan.FromDays(90));
        await TenantTableCounts.WaitAsync(async () => await RetentionData.PurgeCountAsync(App, purgedId, "Done") == 1, TimeSpan.FromSeconds(60), "the purge");

        var after = await TenantTableCounts.CountAsync(App.DatabaseConnectionString, purgedId);
        Assert.Equal(keptCountsBefore.Keys, after.Keys);
        Assert.All(after, c => Assert.True(c.Value == 0, $"{c.Key} still holds {c.Value} row(s) of the purged tenant"));
        Assert.Null(await TenantRows.FindAsync(App.DatabaseConnectionString, purged.ClientKey));
        Assert.Equal(0, await RetentionData.TriggerCountAsync(App, purgedId));

        // The other tenant: same counts (no policy in the way) and same checksums (through its own policy).
        Assert.Equal(keptCountsBefore.Where(c => c.Key != "outbox_messages"), (await TenantTableCounts.CountAsync(App.DatabaseConnectionString, keptId)).Where(c => c.Key != "outbox_messages"));
        Assert.Equal(keptBefore, await TenantRows.ChecksumAsync(App.DatabaseConnectionString, keptId));

        // Meanwhile the daily personal data report job asked for the installed tenant's report, and the worker made it.
        await TenantTableCounts.WaitAsync(
            async () => await TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString, "SELECT count(*) FROM tenants WHERE id = @t AND accounts_reported_at IS NOT NULL", ("t", keptId)) == 1,
            TimeSpan.FromSeconds(30), "the kept tenant's personal data report");
        Assert.NotNull(await TenantRows.FindAsync(App.DatabaseConnectionString, kept.ClientKey));

        // The purge record: hash, dates, counts per table, reason; no clientKey or site anywhere in it.
        var record = await TenantTableCounts.ScalarAsync<string>(App.DatabaseConnectionString,
            "SELECT row_to_json(p)::text FROM tenant_purges p WHERE purged_tenant_id = @t", ("t", purgedId));
        var json = JsonNode.Parse(record!)!.AsObject();
        Assert.Equal(RetentionData.Sha256(purged.ClientKey), json["client_key_hash"]!.GetValue<string>());
        Assert.Equal("Retention", json["reason"]!.GetValue<string>());
        Assert.NotNull(json["uninstalled_at"]);
        Assert.NotNull(json["started_at"]);
        Assert.NotNull(json["finished_at"]);
        var rows = json["row_counts"]!.AsObject();
        Assert.Equal(purgedCountsBefore["records"], rows["records"]!.GetValue<long>());
        Assert.Equal(purgedCountsBefore["audit_entries"], rows["audit_entries"]!.GetValue<long>());
        Assert.Equal(after.Keys.Order(StringComparer.Ordinal), rows.Select(r => r.Key).Order(StringComparer.Ordinal)); // every table, even those with nothing to delete
        Assert.DoesNotContain(purged.ClientKey, record, StringComparison.Ordinal);
        Assert.DoesNotContain(purged.Name, record, StringComparison.Ordinal);

        // Operators see it; the log says what was purged by hash and counts, never the site.
        var lastPurges = (await App.Client().GetAsync("/health/ready").OkJsonAsync())["checks"]!["retention"]!["data"]!["lastPurges"]!.AsArray();
        Assert.Contains(lastPurges, p => p!["tenant"]!.GetValue<string>() == RetentionData.Sha256(purged.ClientKey) && p["state"]!.GetValue<string>() == "Done");
        var log = await File.ReadAllTextAsync(TestLog.FilePath);
        Assert.Contains("Purged tenant", log, StringComparison.Ordinal);
        Assert.Contains(RetentionData.Sha256(purged.ClientKey), log, StringComparison.Ordinal);
    }
}

/// <summary>INACTIVITY_DAYS: a tenant with no lifecycle callback and no authenticated request for that long is purged by the daily sweep.</summary>
[Collection(FaultCollection.Name)]
public sealed class InactivityRetentionTests(InactivityRetentionApp fixture) : IClassFixture<InactivityRetentionApp>
{
    private ConnectAppFixture App => fixture.App;

    [Fact]
    public async Task NoActivityFor30Days_DailySweepPurgesTheTenant_ButNotOneThatWasUsed()
    {
        var idle = await RetentionData.FillAsync(App);
        var used = await RetentionData.FillAsync(App);
        var idleId = await RetentionData.TenantIdAsync(App, idle);
        var usedId = await RetentionData.TenantIdAsync(App, used);
        await RetentionData.SettleAsync(App, idleId, usedId);
        var usedBefore = await TenantRows.ChecksumAsync(App.DatabaseConnectionString, usedId);

        // Day 29: nothing. Then the used tenant makes one authenticated request (recorded as last seen, at most hourly).
        fixture.Clock.Advance(TimeSpan.FromDays(29));
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(0, await TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString, "SELECT count(*) FROM tenant_purges"));
        var client = App.Client();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("JWT", SiteTokens.Context(used, "557058:someone", fixture.Clock));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/whoami")).StatusCode);
        var seen = await TenantTableCounts.ScalarAsync<DateTime>(App.DatabaseConnectionString, "SELECT last_seen_at FROM tenants WHERE id = @t", ("t", usedId));
        Assert.Equal(fixture.Clock.GetUtcNow().UtcDateTime, seen, TimeSpan.FromSeconds(1));

        // Day 31: the sweep (daily, 03:17 UTC) purges the idle tenant only.
        fixture.Clock.Advance(TimeSpan.FromDays(2));
        await TenantTableCounts.WaitAsync(async () => await RetentionData.PurgeCountAsync(App, idleId, "Done") == 1, TimeSpan.FromSeconds(60), "the inactivity purge");
        Assert.All(await TenantTableCounts.CountAsync(App.DatabaseConnectionString, idleId), c => Assert.True(c.Value == 0, $"{c.Key}: {c.Value}"));
        Assert.Null(await TenantRows.FindAsync(App.DatabaseConnectionString, idle.ClientKey));
        Assert.Equal("Inactivity", await TenantTableCounts.ScalarAsync<string>(App.DatabaseConnectionString, "SELECT reason FROM tenant_purges WHERE purged_tenant_id = @t", ("t", idleId)));
        Assert.Equal(0, await TenantTableCounts.ScalarAsync<long>(App.DatabaseConnectionString, "SELECT count(*) FROM tenant_purges WHERE purged_tenant_id = @t", ("t", usedId)));
        Assert.Equal(usedBefore, await TenantRows.ChecksumAsync(App.DatabaseConnectionString, usedId));
    }
}
