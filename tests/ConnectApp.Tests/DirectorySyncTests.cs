using System.Net;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectApp.Tests;

/// <summary>
/// The JSM directory sync against the simulator: install and admin-triggered full syncs land every organization,
/// customer and membership; a resync picks up adds, renames, removals and membership changes and otherwise changes
/// nothing; a 429 storm loses and duplicates nothing; progress is reported; a big site does not hold up a small one.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class DirectorySyncTests(ConnectAppFixture app)
{
    private sealed record Stored(Dictionary<string, (string Name, string? Email, bool Removed, string FieldValues)> Organizations, Dictionary<string, (string Name, string? Email, bool Removed, string FieldValues)> Customers, HashSet<(string Customer, string Organization)> Memberships);

    [Fact]
    public async Task Install_SyncsEveryOrganizationCustomerAndMembership_AsTheSystemActor()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 6, customers: 230);
        var desk = site.Directory.AddServiceDesk("10001", "HR");
        site.Directory.AddCustomer("557058:hr-only", "Only On HR", "hr.only@example.com", desk.Id);
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);

        var runs = await WaitForLatestAsync(admin);
        Assert.Equal("install", runs["trigger"]!.GetValue<string>());
        Assert.Equal("succeeded", runs["status"]!.GetValue<string>());
        Assert.Equal(6 + 231, runs["total"]!.GetValue<long>());
        Assert.Equal(6 + 231, runs["done"]!.GetValue<long>());
        Assert.Equal(6 + 231, runs["created"]!.GetValue<int>());

        var stored = await StoredAsync(site);
        AssertMatches(site, stored);
        Assert.Equal("Only On HR", stored.Customers["557058:hr-only"].Name);
        Assert.Equal(237, await CountAuditByActorAsync(site, "record.created", "system:jira-sync"));
    }

    [Fact]
    public async Task Resync_PicksUpAddsRenamesRemovalsAndMembershipChanges_AndOtherwiseChangesNothing()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 4, customers: 120);
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await WaitForLatestAsync(admin);

        // An app-only organization with a member: a sync must leave both alone.
        var appOnly = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "app-only-1", name = "Made in the app" }).OkJsonAsync(HttpStatusCode.Created);
        var field = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "tier", label = "Tier", type = "text", visibility = "agents" }).OkJsonAsync(HttpStatusCode.Created);
        Assert.NotNull(field);

        // Unchanged directory: a second run writes nothing at all.
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        var before = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId);
        var again = await SyncAsync(admin);
        Assert.Equal(0, again["created"]!.GetValue<int>() + again["updated"]!.GetValue<int>() + again["removed"]!.GetValue<int>() + again["restored"]!.GetValue<int>());
        // Every tenant table as it was, but for the outbox row that queued the run itself.
        static string[] Data((string Checksum, long Rows) c) => c.Checksum.Split('\n').Where(t => !t.StartsWith("outbox_messages:", StringComparison.Ordinal)).ToArray();
        Assert.Equal(Data(before), Data(await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId)));
        Assert.Contains(Data(before), t => t.StartsWith("records:", StringComparison.Ordinal));

        var orgs = site.Directory.Organizations;
        var first = (await StoredAsync(site)).Customers.Keys.Order(StringComparer.Ordinal).ToList();
        var renamedCustomer = first[0];
        var removedCustomer = first[1];
        var movedCustomer = first[2];

        // The removed customer has a value: it must survive the removal.
        var removedId = await RecordIdAsync(site, removedCustomer);
        var (_, etag) = await agent.GetWithETagAsync($"api/customers/{removedId}");
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/customers/{removedId}/values", new { values = new { tier = "gold" } }, etag).OkJsonAsync();

        var added = site.Directory.AddOrganization("Brand New Org");
        site.Directory.AddCustomer("557058:brand-new", "Brand New Customer", "new@example.com");
        site.Directory.AddMember(added.Id, "557058:brand-new");
        site.Directory.RenameOrganization(orgs[0].Id, "Renamed Org");
        site.Directory.RemoveOrganization(orgs[3].Id);
        site.Directory.RenameCustomer(renamedCustomer, "Renamed Person", "renamed@example.com");
        site.Directory.RemoveCustomer(removedCustomer);
        foreach (var org in orgs.Take(3).Where(o => site.Directory.MembersOf(o.Id).Contains(movedCustomer)))
        {
            site.Directory.RemoveMember(org.Id, movedCustomer);
        }

        site.Directory.AddMember(added.Id, movedCustomer);
        var memberOfAppOnly = first[5];
        await using (var connection = await TenantConnectionAsync(site))
        {
            // Test setup: a membership of the app-only organization (made in the app, e.g. by a CSV import).
            await using var insert = new Npgsql.NpgsqlCommand("INSERT INTO memberships (tenant_id, customer_id, organization_id) SELECT tenant_id, id, @o FROM records WHERE external_id = @c", connection);
            insert.Parameters.AddWithValue("o", Guid.Parse(appOnly["id"]!.GetValue<string>()));
            insert.Parameters.AddWithValue("c", memberOfAppOnly);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
        }

        var run = await SyncAsync(admin);
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(2, run["created"]!.GetValue<int>());
        Assert.Equal(2, run["removed"]!.GetValue<int>());

        var stored = await StoredAsync(site);
        AssertMatches(site, stored);
        Assert.Equal("Renamed Org", stored.Organizations[orgs[0].Id].Name);
        Assert.True(stored.Organizations[orgs[3].Id].Removed);
        Assert.Equal("Renamed Person", stored.Customers[renamedCustomer].Name);
        Assert.Equal("renamed@example.com", stored.Customers[renamedCustomer].Email);
        Assert.True(stored.Customers[removedCustomer].Removed);
        Assert.Contains("gold", stored.Customers[removedCustomer].FieldValues, StringComparison.Ordinal); // values kept
        Assert.Contains((movedCustomer, added.Id), stored.Memberships);
        Assert.Contains((memberOfAppOnly, "app-only-1"), stored.Memberships); // app-only membership kept
        Assert.False(stored.Organizations["app-only-1"].Removed);

        // It comes back: restored, values still there.
        site.Directory.AddCustomer(removedCustomer, "Back Again", "back@example.com");
        var back = await SyncAsync(admin);
        Assert.Equal(1, back["restored"]!.GetValue<int>());
        stored = await StoredAsync(site);
        Assert.False(stored.Customers[removedCustomer].Removed);
        Assert.Contains("gold", stored.Customers[removedCustomer].FieldValues, StringComparison.Ordinal);
        var view = await agent.GetAsync($"api/customers/{removedId}").OkJsonAsync();
        Assert.Null(view["removedAt"]);
        Assert.Equal(1, await CountAuditByActorAsync(site, "record.restored", "system:jira-sync"));
    }

    [Fact]
    public async Task RecordsGoneFromJsm_AreLeftOutOfListAndSearch_UnlessAskedFor_AndComeBackWhenRestored()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 3, customers: 6);
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await WaitForLatestAsync(admin);
        var gone = site.Directory.Organizations[1];
        Assert.Contains(gone.Name, await SearchNamesAsync(agent));

        site.Directory.RemoveOrganization(gone.Id);
        Assert.Equal(1, (await SyncAsync(admin))["removed"]!.GetValue<int>());

        var listed = await agent.GetAsync("api/organizations").OkJsonAsync();
        Assert.DoesNotContain(gone.Name, listed["values"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()));
        var all = await agent.GetAsync("api/organizations?includeRemoved=true").OkJsonAsync();
        var removed = Assert.Single(all["values"]!.AsArray(), v => v!["name"]!.GetValue<string>() == gone.Name)!;
        Assert.NotNull(removed["removedAt"]);
        await TenantTableCounts.WaitAsync(async () => !(await SearchNamesAsync(agent)).Contains(gone.Name), TimeSpan.FromSeconds(30), "the removed organization leaves the search index");

        // A reindex keeps it out too.
        using (var reindex = await admin.PostAsync("api/admin/search/reindex", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, reindex.StatusCode);
        }

        await TenantTableCounts.WaitAsync(async () => (await SearchNamesAsync(agent)).Count == 2, TimeSpan.FromSeconds(30), "the reindex");
        Assert.DoesNotContain(gone.Name, await SearchNamesAsync(agent));

        // Back in JSM under the same id: listed and searchable again.
        site.Directory.RestoreOrganization(gone);
        Assert.Equal(1, (await SyncAsync(admin))["restored"]!.GetValue<int>());
        await TenantTableCounts.WaitAsync(async () => (await SearchNamesAsync(agent)).Contains(gone.Name), TimeSpan.FromSeconds(30), "the restored organization back in the search index");
    }

    private static async Task<List<string>> SearchNamesAsync(HttpClient agent) =>
        (await agent.SendJsonAsync(HttpMethod.Post, "api/search/organizations", new { }).OkJsonAsync())["values"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()).ToList();

    [Fact]
    public async Task Sync_UnderA429Storm_LosesAndDuplicatesNothing_AndStaysUnderThePerSiteCap()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 12, customers: 260);
        site.Faults = new SiteFaults(Every: 3, Status: 429, RetryAfterSeconds: 1, Latency: TimeSpan.FromMilliseconds(20));
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);

        var run = await WaitForLatestAsync(admin, TimeSpan.FromSeconds(120));
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.True(site.InjectedFaults >= 5, $"only {site.InjectedFaults} faults were injected");
        AssertMatches(site, await StoredAsync(site));
        Assert.InRange(site.MaxConcurrentDirectoryCalls, 1, 4);

        // A 503 storm, and a second run over the same directory: still exact, nothing created twice.
        site.Faults = new SiteFaults(Every: 2, Status: 503);
        var again = await SyncAsync(admin, TimeSpan.FromSeconds(120));
        Assert.Equal("succeeded", again["status"]!.GetValue<string>());
        Assert.Equal(0, again["created"]!.GetValue<int>());
        AssertMatches(site, await StoredAsync(site));
        Assert.Equal(12 + 260, await CountAuditByActorAsync(site, "record.created", "system:jira-sync"));
    }

    [Fact]
    public async Task ARunStoppedMidWrite_ThenRunAgain_AsARedeliveryDoes_EndsExact_WithNothingDuplicated()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 5, customers: 1000);
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        await WaitForLatestAsync(admin);
        site.Directory.Generate(organizations: 0, customers: 20_000, seed: 10); // enough writing (seconds) to stop it halfway
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;

        // A run as its message would start it, stopped while it writes (what a killed worker leaves: some batches
        // committed, the message unacknowledged), then run again under the same id, as the redelivery does.
        var runId = Guid.NewGuid();
        await using (var scope = app.App.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<ConnectApp.Persistence.TenantScope>().Enter(tenantId);
            var db = scope.ServiceProvider.GetRequiredService<ConnectApp.Persistence.AppDbContext>();
            db.Set<ConnectApp.Sync.DirectorySyncRun>().Add(new ConnectApp.Sync.DirectorySyncRun
            {
                Id = runId,
                TenantId = tenantId,
                Status = ConnectApp.Sync.SyncStatus.Queued,
                Trigger = "admin",
                RequestedBy = "test",
                CreatedAt = DateTimeOffset.UtcNow,
                UpdatedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
            using var stop = new CancellationTokenSource();
            var running = scope.ServiceProvider.GetRequiredService<ConnectApp.Sync.DirectorySyncer>().RunAsync(runId, stop.Token);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (await CustomerCountAsync(site) < 3000)
            {
                Assert.False(running.IsCompleted, "the run ended before it could be stopped");
                Assert.True(DateTime.UtcNow < deadline);
                await Task.Delay(20);
            }

            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        }

        Assert.InRange(await CustomerCountAsync(site), 3000, 20_999);
        await using (var scope = app.App.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<ConnectApp.Persistence.TenantScope>().Enter(tenantId);
            await scope.ServiceProvider.GetRequiredService<ConnectApp.Sync.DirectorySyncer>().RunAsync(runId, CancellationToken.None);
        }

        var run = await admin.GetAsync($"api/admin/sync/{runId}").OkJsonAsync();
        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(20_000, run["created"]!.GetValue<int>()); // counted once over both attempts
        AssertMatches(site, await StoredAsync(site));
        Assert.Equal(5 + 21_000, await CountAuditByActorAsync(site, "record.created", "system:jira-sync"));
    }

    [Fact]
    public async Task JsmClient_PagesAt50_SendsTheExperimentalHeader_AndAsksUsersInBulkInCallsOf90()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 2, customers: 260);
        await app.InstallAsync(site);
        await WaitForLatestAsync(app.As(site, SiteRole.Admin));
        var tenant = (await app.App.Services.GetRequiredService<AtlassianConnect.IConnectTenantStore>().FindAsync(site.ClientKey, refresh: true, CancellationToken.None))!;
        var jsm = app.App.Services.GetRequiredService<ConnectApp.Jira.JsmClient>();

        var before = site.DirectoryCalls;
        var pages = new List<int>();
        await foreach (var page in jsm.ServiceDeskCustomersAsync(tenant, "1", CancellationToken.None))
        {
            pages.Add(page.Count);
        }

        Assert.Equal(new[] { 50, 50, 50, 50, 50, 10 }, pages);
        Assert.Equal(before + 6, site.DirectoryCalls);

        var wanted = site.Directory.MembersOf(site.Directory.Organizations[0].Id).Take(100).Append("557058:nobody").ToList();
        before = site.DirectoryCalls;
        var users = await jsm.UsersAsync(tenant, wanted, CancellationToken.None);
        Assert.Equal(100, users.Count);
        Assert.All(users, u => Assert.False(string.IsNullOrEmpty(u.DisplayName)));
        Assert.Equal(before + 2, site.DirectoryCalls); // 101 ids: 90 + 11

        await Assert.ThrowsAsync<ConnectApp.Jira.JiraCallException>(async () =>
        {
            await foreach (var _ in jsm.OrganizationMembersAsync(tenant, "no-such-org", CancellationToken.None))
            {
            }
        });
    }

    [Fact]
    public async Task JsmClient_WaitsOutRetryAfter_BeforeItRetries()
    {
        var site = ConnectAppFixture.NewSite();
        await app.InstallAsync(site);
        await WaitForLatestAsync(app.As(site, SiteRole.Admin));
        var tenant = (await app.App.Services.GetRequiredService<AtlassianConnect.IConnectTenantStore>().FindAsync(site.ClientKey, refresh: true, CancellationToken.None))!;
        var jsm = app.App.Services.GetRequiredService<ConnectApp.Jira.JsmClient>();

        // Only the next call is refused (429, Retry-After: 3); the client's own back-off would start at 0.5 s.
        site.Faults = new SiteFaults(Every: site.DirectoryCalls + 1, Status: 429, RetryAfterSeconds: 3);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var desks = new List<ConnectApp.Jira.JsmServiceDesk>();
        await foreach (var page in jsm.ServiceDesksAsync(tenant, CancellationToken.None))
        {
            desks.AddRange(page);
        }

        Assert.Single(desks);
        Assert.Equal(1, site.InjectedFaults);
        Assert.InRange(watch.Elapsed.TotalSeconds, 2.9, 15);
    }

    [Fact]
    public async Task Reinstall_QueuesASync_UnlessOneIsAlreadyQueuedOrRunning()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 2, customers: 400);
        site.Faults = new SiteFaults(Latency: TimeSpan.FromMilliseconds(150));
        await app.InstallAsync(site);
        await app.InstallAsync(site); // the same callback again while the first sync is still going
        var admin = app.As(site, SiteRole.Admin);
        Assert.Single((await admin.GetAsync("api/admin/sync").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray());
        await WaitForLatestAsync(admin);

        site.Faults = new SiteFaults();
        site.Directory.AddCustomer("557058:after-reinstall", "After Reinstall", "after@example.com");
        await app.InstallAsync(site);
        admin = app.As(site, SiteRole.Admin); // a reinstall brings a new shared secret
        var run = await WaitForLatestAsync(admin);
        Assert.Equal(2, (await admin.GetAsync("api/admin/sync").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray().Count);
        Assert.Equal(1, run["created"]!.GetValue<int>());
        Assert.Equal("install", run["trigger"]!.GetValue<string>());
    }

    [Fact]
    public async Task Progress_IsAdminOnly_TenantScoped_AndReportsDoneTotalRateAndEta()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.Generate(organizations: 3, customers: 1200);
        site.Faults = new SiteFaults(Latency: TimeSpan.FromMilliseconds(15));
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        await app.As(site, SiteRole.Agent).PostAsync("api/admin/sync", null).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        var first = await WaitForLatestAsync(admin);
        Assert.True(first["ratePerSecond"]!.GetValue<double>() > 0);
        Assert.Equal(0, first["etaSeconds"]!.GetValue<double>());
        Assert.Equal("done", first["phase"]!.GetValue<string>());
        Assert.True(first["fetched"]!.GetValue<long>() >= 1203);

        // While a run is going, a second request answers the same run; it is seen in flight with a phase.
        using var started = await admin.PostAsync("api/admin/sync", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = JsonNode.Parse(await started.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        using var twice = await admin.PostAsync("api/admin/sync", null);
        Assert.Equal(id, JsonNode.Parse(await twice.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());
        var list = (await admin.GetAsync("api/admin/sync").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray();
        Assert.Equal(id, list[0]!["id"]!.GetValue<string>());
        Assert.Contains(list[0]!["status"]!.GetValue<string>(), new[] { "queued", "running", "succeeded" });

        var done = await WaitAsync(admin, id, TimeSpan.FromSeconds(60));
        Assert.Equal(1203, done["total"]!.GetValue<long>());
        Assert.Equal(1203, done["done"]!.GetValue<long>());

        var other = app.As(await app.InstallSiteAsync(), SiteRole.Admin);
        await other.GetAsync($"api/admin/sync/{id}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task BigSiteSync_DoesNotHoldUpASmallSitesSync()
    {
        var big = ConnectAppFixture.NewSite();
        big.Directory.Generate(organizations: 40, customers: 20_000);
        big.Faults = new SiteFaults(Latency: TimeSpan.FromMilliseconds(10));
        await app.InstallAsync(big);
        var bigAdmin = app.As(big, SiteRole.Admin);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await LatestAsync(bigAdmin))["status"]!.GetValue<string>() != "running")
        {
            Assert.True(DateTime.UtcNow < deadline, "the big sync never started");
            await Task.Delay(50);
        }

        var small = ConnectAppFixture.NewSite();
        small.Directory.Generate(organizations: 2, customers: 30);
        await app.InstallAsync(small);
        var smallRun = await WaitForLatestAsync(app.As(small, SiteRole.Admin), TimeSpan.FromSeconds(30));
        Assert.Equal("succeeded", smallRun["status"]!.GetValue<string>());
        var bigNow = await LatestAsync(bigAdmin);
        Assert.Equal("running", bigNow["status"]!.GetValue<string>());
        AssertMatches(small, await StoredAsync(small));

        var bigDone = await WaitForLatestAsync(bigAdmin, TimeSpan.FromSeconds(240));
        Assert.Equal("succeeded", bigDone["status"]!.GetValue<string>());
        Assert.Equal(20_040, bigDone["done"]!.GetValue<long>());
    }

    private static void AssertMatches(SimulatedSite site, Stored stored)
    {
        var orgs = site.Directory.Organizations;
        Assert.Equal(orgs.Select(o => (o.Id, o.Name)).Order().ToList(),
            stored.Organizations.Where(o => !o.Value.Removed && !o.Key.StartsWith("app-only", StringComparison.Ordinal)).Select(o => (o.Key, o.Value.Name)).Order().ToList());
        var expectedMembers = orgs.SelectMany(o => site.Directory.MembersOf(o.Id).Select(a => (a, o.Id))).ToHashSet();
        // A customer marked removed keeps what it had (memberships included), like its values.
        Assert.Equal(expectedMembers.Order().ToList(), stored.Memberships
            .Where(m => !m.Organization.StartsWith("app-only", StringComparison.Ordinal) && !stored.Customers[m.Customer].Removed).Order().ToList());
        var active = stored.Customers.Where(c => !c.Value.Removed).ToDictionary();
        foreach (var accountId in expectedMembers.Select(m => m.Item1))
        {
            Assert.True(active.ContainsKey(accountId), accountId);
        }

        Assert.Equal(site.Directory.CustomerCount, active.Count);
    }

    private static async Task<JsonObject> LatestAsync(HttpClient admin)
    {
        var list = (await admin.GetAsync("api/admin/sync").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray();
        return list.Count == 0 ? new JsonObject { ["status"] = "none" } : list[0]!.AsObject();
    }

    private static async Task<JsonObject> WaitForLatestAsync(HttpClient admin, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var run = await LatestAsync(admin);
            if (run["status"]!.GetValue<string>() is "succeeded" or "failed")
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, "sync did not finish: " + run.ToJsonString());
            await Task.Delay(100);
        }
    }

    private static async Task<JsonObject> SyncAsync(HttpClient admin, TimeSpan? timeout = null)
    {
        using var started = await admin.PostAsync("api/admin/sync", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = JsonNode.Parse(await started.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        return await WaitAsync(admin, id, timeout ?? TimeSpan.FromSeconds(60));
    }

    private static async Task<JsonObject> WaitAsync(HttpClient admin, string id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var run = await admin.GetAsync($"api/admin/sync/{id}").OkJsonAsync();
            if (run["status"]!.GetValue<string>() is "succeeded" or "failed")
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, "sync did not finish: " + run.ToJsonString());
            await Task.Delay(100);
        }
    }

    private async Task<Npgsql.NpgsqlConnection> TenantConnectionAsync(SimulatedSite site)
    {
        var tenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        var connection = new Npgsql.NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var scope = new Npgsql.NpgsqlCommand($"SELECT set_config('app.tenant_id', '{tenant}', false)", connection);
        await scope.ExecuteNonQueryAsync();
        return connection;
    }

    private async Task<Stored> StoredAsync(SimulatedSite site)
    {
        await using var connection = await TenantConnectionAsync(site);
        var orgs = new Dictionary<string, (string, string?, bool, string)>(StringComparer.Ordinal);
        var customers = new Dictionary<string, (string, string?, bool, string)>(StringComparer.Ordinal);
        await using (var read = new Npgsql.NpgsqlCommand("SELECT entity, external_id, name, email, removed_at IS NOT NULL, field_values::text FROM records", connection))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                var target = reader.GetString(0) == "Organization" ? orgs : customers;
                Assert.True(target.TryAdd(reader.GetString(1), (reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetBoolean(4), reader.GetString(5))), "duplicate " + reader.GetString(1));
            }
        }

        var memberships = new HashSet<(string, string)>();
        await using (var read = new Npgsql.NpgsqlCommand("SELECT c.external_id, o.external_id FROM memberships m JOIN records c ON c.id = m.customer_id JOIN records o ON o.id = m.organization_id", connection))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                memberships.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        return new Stored(orgs, customers, memberships);
    }

    private async Task<long> CustomerCountAsync(SimulatedSite site)
    {
        await using var connection = await TenantConnectionAsync(site);
        await using var read = new Npgsql.NpgsqlCommand("SELECT count(*) FROM records WHERE entity = 'Customer'", connection);
        return (long)(await read.ExecuteScalarAsync())!;
    }

    private async Task<Guid> RecordIdAsync(SimulatedSite site, string externalId)
    {
        await using var connection = await TenantConnectionAsync(site);
        await using var read = new Npgsql.NpgsqlCommand("SELECT id FROM records WHERE external_id = @e", connection);
        read.Parameters.AddWithValue("e", externalId);
        return (Guid)(await read.ExecuteScalarAsync())!;
    }

    private async Task<long> CountAuditByActorAsync(SimulatedSite site, string action, string actor)
    {
        await using var connection = await TenantConnectionAsync(site);
        await using var read = new Npgsql.NpgsqlCommand("SELECT count(*) FROM audit_entries WHERE action = @a AND actor = @b", connection);
        read.Parameters.AddWithValue("a", action);
        read.Parameters.AddWithValue("b", actor);
        return (long)(await read.ExecuteScalarAsync())!;
    }
}
