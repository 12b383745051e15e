using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>
/// The web process killed with SIGKILL while integrations write through it (the app's executable in the <c>web</c>
/// role, its own database): every write it acknowledged is there, no change is half-written (a record's version, its
/// audit rows and its outbox messages always agree), and a restarted process goes on serving the same records.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class AppCrashTests(ConnectAppFixture app)
{
    private const int Writers = 6;

    [Fact]
    public async Task WebProcessKilledDuringWrites_EveryAcknowledgedWriteIsWhole_AndARestartedProcessServesThem()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.MigrateAsync();
        Guid tenantId;
        string token;
        await using (var setup = new ConnectAppFactory(app, database.Url))
        {
            var site = await app.InstallSiteThroughAsync(setup.CreateClient());
            tenantId = (await TenantRows.FindAsync(database.ConnectionString, site.ClientKey))!.Id;
            site.AddUser("557058:crash-admin", SiteRole.Admin);
            using var admin = setup.CreateClient();
            var context = SiteTokens.Context(site, "557058:crash-admin");
            TestLog.RecordSecret(context);
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", context);
            await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "seats", label = "Seats", type = "number", decimals = 0 }).OkJsonAsync(HttpStatusCode.Created);
            var created = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "crash", scopes = new[] { "read", "write" } }).OkJsonAsync(HttpStatusCode.Created);
            token = created["token"]!.GetValue<string>();
            TestLog.RecordSecret(token);
        }

        await using var broker = await TestBroker.CreateAsync();
        var environment = new Dictionary<string, string> { ["API_TOKEN_RATE_LIMIT"] = "100000" };
        var web = WorkerProcess.Start(database.Url, broker.Url, app.SecretsKey, "web", environment);
        try
        {
            await WaitUntilLiveAsync(web);
            // What the process acknowledged: record id → (version, seats) of the last 2xx answer.
            var acknowledged = new ConcurrentDictionary<Guid, (int Version, int Seats)>();
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteUntilRefusedAsync(web.Address, token, w, acknowledged, stop.Token))).ToList();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (acknowledged.Count < 40 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }

            web.Kill(); // SIGKILL with requests in flight: some transactions open, some answers unsent
            await stop.CancelAsync();
            await Task.WhenAll(writers);
            Assert.True(acknowledged.Count >= 40, $"only {acknowledged.Count} records were written before the deadline");

            var stored = await StoredAsync(database, tenantId);
            foreach (var (id, (version, seats)) in acknowledged)
            {
                Assert.True(stored.TryGetValue(id, out var row), $"acknowledged record {id} is missing");
                Assert.True(row.Version >= version, $"record {id}: version {row.Version} is older than the acknowledged {version}");
                if (row.Version == version)
                {
                    Assert.Equal(seats, row.Seats);
                }
            }

            foreach (var (id, row) in stored)
            {
                // One value per write, so: version = value.set audit rows; one record.created; and one outbox message
                // per version — a change and its audit and message exist together or not at all.
                Assert.Equal(row.Version, row.ValueAudits);
                Assert.Equal(1, row.CreatedAudits);
                Assert.Equal(Enumerable.Range(1, row.Version), row.OutboxVersions);
            }

            await web.DisposeAsync();
            web = WorkerProcess.Start(database.Url, broker.Url, app.SecretsKey, "web", environment);
            await WaitUntilLiveAsync(web);
            using var client = Client(web.Address, token);
            var (recordId, (lastVersion, _)) = acknowledged.First();
            var current = await client.GetAsync($"api/organizations/{recordId}").OkJsonAsync();
            Assert.True(current["version"]!.GetValue<int>() >= lastVersion);
            var updated = await client.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{recordId}/values", new { values = new { seats = 4242 } }, $"W/\"{current["version"]}\"").OkJsonAsync();
            Assert.Equal(4242, updated["values"]!["seats"]!.GetValue<int>());
        }
        finally
        {
            await web.DisposeAsync();
        }
    }

    /// <summary>Creates organizations and updates each a few times, recording every acknowledged answer, until the process stops answering.</summary>
    private static async Task WriteUntilRefusedAsync(Uri address, string token, int writer, ConcurrentDictionary<Guid, (int, int)> acknowledged, CancellationToken stop)
    {
        using var client = Client(address, token);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            try
            {
                using var created = await client.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = $"crash-{writer}-{n}", name = $"Crash {writer}-{n}", values = new { seats = 1 } });
                if (created.StatusCode != HttpStatusCode.Created)
                {
                    continue;
                }

                var record = JsonNode.Parse(await created.Content.ReadAsStringAsync(CancellationToken.None))!;
                var id = Guid.Parse(record["id"]!.GetValue<string>());
                acknowledged[id] = (record["version"]!.GetValue<int>(), 1);
                for (var seats = 2; seats <= 4; seats++)
                {
                    var (version, _) = acknowledged[id];
                    using var patched = await client.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{id}/values", new { values = new { seats } }, $"W/\"{version}\"");
                    if (patched.StatusCode == HttpStatusCode.OK)
                    {
                        var body = JsonNode.Parse(await patched.Content.ReadAsStringAsync(CancellationToken.None))!;
                        acknowledged[id] = (body["version"]!.GetValue<int>(), seats);
                    }
                }
            }
            catch (HttpRequestException)
            {
                return; // the process is gone
            }
            catch (TaskCanceledException)
            {
                return;
            }
        }
    }

    private static HttpClient Client(Uri address, string token)
    {
        var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task WaitUntilLiveAsync(WorkerProcess process)
    {
        using var client = new HttpClient { BaseAddress = process.Address, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var live = await client.GetAsync("health/live");
                if (live.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
            }
            catch (TaskCanceledException) when (DateTime.UtcNow < deadline)
            {
            }

            Assert.True(DateTime.UtcNow < deadline, "the web process did not come up");
            await Task.Delay(200);
        }
    }

    private sealed record StoredRecord(int Version, int? Seats, long ValueAudits, long CreatedAudits, IReadOnlyList<int> OutboxVersions);

    private static async Task<Dictionary<Guid, StoredRecord>> StoredAsync(TestDatabase database, Guid tenantId)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"""
            SELECT set_config('app.tenant_id', '{tenantId}', false);
            SELECT r.id, r.version, (r.field_values ->> (SELECT id::text FROM field_definitions WHERE key = 'seats'))::int,
                   (SELECT count(*) FROM audit_entries a WHERE a.record_id = r.id AND a.action = 'value.set'),
                   (SELECT count(*) FROM audit_entries a WHERE a.record_id = r.id AND a.action = 'record.created'),
                   ARRAY(SELECT (o.payload ->> 'version')::int FROM outbox_messages o
                         WHERE o.type = 'record.changed.v1' AND (o.payload ->> 'recordId')::uuid = r.id ORDER BY 1)
            FROM records r
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.NextResultAsync();
        var rows = new Dictionary<Guid, StoredRecord>();
        while (await reader.ReadAsync())
        {
            rows[reader.GetGuid(0)] = new StoredRecord(reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetFieldValue<int[]>(5));
        }

        return rows;
    }
}
