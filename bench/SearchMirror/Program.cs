// Search mirror benchmark with 100,000 organizations and 1,000,000 customers (defaults; arguments scale them).
// The real app (role all: web + outbox relay + consumers) in-process on Kestrel, the Jira simulator, a fresh
// PostgreSQL database and a RabbitMQ vhost of its own. Steps: load records with SQL (the loader), reindex through
// the API (rate, against a same-run read-only scan), search latency through the API (against GET /api/whoami and the
// old list endpoint), mirror lag at a sustained write rate (against a low rate), EXPLAIN of the main statements.
// Writes bench/search-mirror.md.
// Usage: dotnet run -c Release --project bench/SearchMirror -- [organizations] [customers] [writes/s] [seconds]
// (SEARCH_MIRROR_KEEP_DATABASE=1 keeps the database for looking at plans afterwards.)
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AtlassianConnect.Lifecycle;
using JiraSimulator;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

internal static class SearchMirrorBench
{
    public static async Task Main(string[] args)
    {
        var organizations = Arg(args, 0, 100_000);
        var customers = Arg(args, 1, 1_000_000);
        var writeRate = Arg(args, 2, 500);
        var writeSeconds = Arg(args, 3, 30);
        var root = BenchHost.FindRoot();
        var serverUrl = Environment.GetEnvironmentVariable("TEST_DATABASE_URL") ?? "postgres://app:app_pw@127.0.0.1:5432/appdb";
        var database = "connectapp_bench_" + Guid.NewGuid().ToString("N")[..10];
        var admin = BenchHost.ToConnectionString(serverUrl);
        await Exec(admin, $"CREATE DATABASE \"{database}\"");
        var databaseUrl = new UriBuilder(serverUrl) { Path = "/" + database }.Uri.ToString();
        var db = BenchHost.ToConnectionString(databaseUrl);

        var vhost = "connectapp-bench-" + Guid.NewGuid().ToString("N")[..8];
        using var management = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:15672/") };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        (await management.PutAsync($"api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await management.PutAsync($"api/permissions/{vhost}/guest", new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var md = new StringBuilder();

        // The machine is shared: the 1-minute load average every 10 s during the run, reported with the figures.
        var loadSamples = new List<double>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested && File.Exists("/proc/loadavg"))
            {
                var first = (await File.ReadAllTextAsync("/proc/loadavg")).Split(' ')[0];
                lock (loadSamples)
                {
                    loadSamples.Add(double.Parse(first, CultureInfo.InvariantCulture));
                }

                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), sampling.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
        try
        {
            var migrate = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ConnectApp.dll"), "migrate"])
            {
                Environment = { ["DATABASE_URL"] = databaseUrl, ["SECRETS_KEY"] = secretsKey },
                RedirectStandardOutput = true,
            })!;
            await migrate.WaitForExitAsync();
            if (migrate.ExitCode != 0)
            {
                throw new InvalidOperationException("migrate failed");
            }

            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_JIRASIMULATOR", AppContext.BaseDirectory);
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_CONNECTAPP", AppContext.BaseDirectory);
            await using var simulator = new WebApplicationFactory<SimulatorProgram>();
            _ = simulator.Server;
            await using var app = new AppFactory(databaseUrl, secretsKey, $"amqp://guest:guest@127.0.0.1:5672/{vhost}", simulator);
            app.UseKestrel(0);
            app.StartServer();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/");
            var name = "bench-" + Guid.NewGuid().ToString("N")[..6];
            var site = new SimulatedSite(name, new Uri($"https://{name}.atlassian.net"));
            simulator.Services.GetRequiredService<SiteDirectory>().Add(site);
            using (var installResponse = await new ConnectAppInstaller(simulator.Services.GetRequiredService<InstallKeyServer>()).InstallAsync(Client(null), site))
            {
                installResponse.EnsureSuccessStatusCode();
            }

            site.AddUser("557058:bench-admin", SiteRole.Admin);
            var client = Client("557058:bench-admin");
            client.DefaultRequestHeaders.ConnectionClose = false;
            foreach (var field in new object[]
            {
                new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver", "Bronze" } },
                new { entity = "organization", key = "seats", label = "Seats", type = "number", decimals = 0 },
                new { entity = "organization", key = "renewal", label = "Renewal", type = "date" },
                new { entity = "customer", key = "plan", label = "Plan", type = "select", options = new[] { "Free", "Pro", "Enterprise" } },
                new { entity = "customer", key = "score", label = "Score", type = "number", decimals = 0 },
                new { entity = "customer", key = "vip", label = "VIP", type = "checkbox" },
            })
            {
                (await client.PostAsJsonAsync("api/admin/fields", field)).EnsureSuccessStatusCode();
            }

            var fields = JsonNode.Parse(await client.GetStringAsync("api/fields"))!;
            var fieldList = (fields as JsonArray ?? fields["values"]!.AsArray()).Select(f => f!).ToList();
            string Id(string key) => fieldList.First(f => f["key"]!.GetValue<string>() == key)["id"]!.GetValue<string>();
            string[] Options(string key) => fieldList.First(f => f["key"]!.GetValue<string>() == key)["options"]!.AsArray().Select(o => o!["id"]!.GetValue<string>()).ToArray();
            var tenantId = (Guid)(await ScalarAsync(db, null, "SELECT id FROM tenants LIMIT 1"))!;

            // 1. The loader: plain SQL, as the tenant (row-level security applies). It bypasses the app, so nothing is in
            // the outbox and the index is empty afterwards: the reindex below builds it.
            var load = Stopwatch.StartNew();
            var tiers = Options("tier");
            var plans = Options("plan");
            await ExecAsync(db, tenantId, $"""
                INSERT INTO records (id, tenant_id, entity, external_id, name, field_values, version, created_at, updated_at)
                SELECT gen_random_uuid(), '{tenantId}', 'Organization', (100000 + g)::text, 'Organization ' || lpad(g::text, 6, '0'),
                       jsonb_build_object('{Id("tier")}', (ARRAY['{tiers[0]}','{tiers[1]}','{tiers[2]}'])[1 + g % 3], '{Id("seats")}', g % 500,
                                          '{Id("renewal")}', to_char(date '2026-01-01' + (g % 365), 'YYYY-MM-DD')),
                       1, now(), now()
                FROM generate_series(0, {organizations - 1}) g
                """);
            await ExecAsync(db, tenantId, $"""
                INSERT INTO records (id, tenant_id, entity, external_id, name, email, field_values, version, created_at, updated_at)
                SELECT gen_random_uuid(), '{tenantId}', 'Customer', '557058:c' || g, 'Customer ' || lpad(g::text, 7, '0'), 'user' || g || '@example' || (g % 1000) || '.com',
                       CASE WHEN g % 10 = 0 THEN jsonb_build_object() ELSE jsonb_build_object('{Id("plan")}', (ARRAY['{plans[0]}','{plans[1]}','{plans[2]}'])[1 + g % 3], '{Id("score")}', g % 100, '{Id("vip")}', g % 7 = 0) END,
                       1, now(), now()
                FROM generate_series(0, {customers - 1}) g
                """);
            await ExecAsync(db, tenantId, $"""
                INSERT INTO memberships (tenant_id, customer_id, organization_id)
                SELECT '{tenantId}', c.id, o.id FROM records c
                JOIN records o ON o.entity = 'Organization' AND o.external_id = (100000 + (substring(c.external_id from 9)::int % {organizations}))::text
                WHERE c.entity = 'Customer'
                """);
            await ExecAsync(db, tenantId, "ANALYZE records; ANALYZE memberships");
            load.Stop();
            var total = organizations + customers;
            Console.WriteLine($"loaded {total:N0} records in {load.Elapsed.TotalSeconds:F1} s");

            // 2. Baseline for the reindex: the same keyset read of every record in batches of 2000, without building or writing.
            var scan = Stopwatch.StartNew();
            await using (var connection = await OpenAsync(db, tenantId))
            {
                var last = Guid.Empty;
                while (true)
                {
                    await using var read = new NpgsqlCommand("SELECT id, name, field_values::text FROM records WHERE id > @last ORDER BY id LIMIT 2000", connection);
                    read.Parameters.AddWithValue("last", last);
                    await using var reader = await read.ExecuteReaderAsync();
                    var n = 0;
                    while (await reader.ReadAsync())
                    {
                        last = reader.GetGuid(0);
                        _ = reader.GetString(2);
                        n++;
                    }

                    if (n == 0)
                    {
                        break;
                    }
                }
            }

            scan.Stop();

            // 3. Reindex through the API, polled like the UI would.
            var reindexWatch = Stopwatch.StartNew();
            var started = JsonNode.Parse(await (await client.PostAsync("api/admin/search/reindex", null)).Content.ReadAsStringAsync())!;
            var progress = new StringBuilder();
            JsonNode run;
            var polls = 0;
            while (true)
            {
                await Task.Delay(1000);
                run = JsonNode.Parse(await client.GetStringAsync($"api/admin/search/reindex/{started["id"]}"))!;
                var ended = run["status"]!.GetValue<string>() is "succeeded" or "failed";
                if (polls++ % 10 == 0 || ended)
                {
                    progress.AppendLine(CultureInfo.InvariantCulture, $"{reindexWatch.Elapsed.TotalSeconds,6:F1} s  {run["status"]}  done {run["done"]}/{run["total"]}  rate {run["ratePerSecond"]}/s  ETA {run["etaSeconds"]} s");
                }

                if (ended)
                {
                    break;
                }
            }

            reindexWatch.Stop();
            // VACUUM as autovacuum would soon after a million inserts: it also merges the GIN indexes' pending lists, which every
            // search would otherwise scan linearly.
            await ExecAsync(db, tenantId, "VACUUM ANALYZE search_documents");
            Console.WriteLine($"reindex: {run.ToJsonString()}");

            // 4. Search latency through the API (JWT auth, role check cached, JSON), sequential requests, client-measured.
            var someOrg = (Guid)(await ScalarAsync(db, tenantId, "SELECT record_id FROM search_documents WHERE entity = 'Organization' ORDER BY name_sort OFFSET 421 LIMIT 1"))!;
            var someCustomer = (Guid)(await ScalarAsync(db, tenantId, "SELECT record_id FROM search_documents WHERE entity = 'Customer' ORDER BY name_sort OFFSET 4242 LIMIT 1"))!;
            var deepCursor = await CursorAfterPagesAsync(client, "customers", new JsonObject { ["sort"] = "name", ["limit"] = 50 }, 20);
            var queries = new (string Label, string Entity, JsonObject Body)[]
            {
                ("customers: name fragment `omer 000424` (10 matches)", "customers", new JsonObject { ["q"] = "omer 000424" }),
                ("customers: email domain `@example7.com`", "customers", new JsonObject { ["q"] = "@example7.com" }),
                ("customers: accountId fragment `557058:c12345`", "customers", new JsonObject { ["q"] = "557058:c12345" }),
                ("customers: matches nothing", "customers", new JsonObject { ["q"] = "zzqqxx" }),
                ("customers: plan in (Pro, Enterprise) and score 50..59, by name", "customers", new JsonObject { ["filters"] = new JsonArray(new JsonObject { ["field"] = "plan", ["op"] = "in", ["values"] = new JsonArray("Pro", "Enterprise") }, new JsonObject { ["field"] = "score", ["op"] = "range", ["gte"] = 50, ["lte"] = 59 }) }),
                ("customers: vip, by score descending", "customers", new JsonObject { ["filters"] = new JsonArray(new JsonObject { ["field"] = "vip", ["op"] = "equals", ["value"] = true }), ["sort"] = "-score" }),
                ("customers: plan is empty", "customers", new JsonObject { ["filters"] = new JsonArray(new JsonObject { ["field"] = "plan", ["op"] = "empty" }) }),
                ("customers of one organization", "customers", new JsonObject { ["organizationId"] = someOrg.ToString() }),
                ("organizations of one customer", "organizations", new JsonObject { ["customerId"] = someCustomer.ToString() }),
                ("organizations: tier Gold and seats 100..199, by seats descending", "organizations", new JsonObject { ["filters"] = new JsonArray(new JsonObject { ["field"] = "tier", ["op"] = "equals", ["value"] = "Gold" }, new JsonObject { ["field"] = "seats", ["op"] = "range", ["gte"] = 100, ["lt"] = 200 }), ["sort"] = "-seats" }),
                ("organizations: name fragment `ation 00042` (10 matches)", "organizations", new JsonObject { ["q"] = "ation 00042" }),
                ("customers: all, by name, page 21 (cursor)", "customers", new JsonObject { ["sort"] = "name", ["limit"] = 50, ["cursor"] = deepCursor }),
            };
            const int samples = 60;
            var baseline = await MeasureAsync(samples, () => client.GetAsync("api/whoami"));
            var rows = new List<string>();
            var totals = new List<string>();
            foreach (var (label, entity, body) in queries)
            {
                var first = JsonNode.Parse(await (await client.PostAsJsonAsync($"api/search/{entity}", body)).Content.ReadAsStringAsync())!;
                var lat = await MeasureAsync(samples, () => client.PostAsync($"api/search/{entity}", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json")));
                rows.Add(string.Create(CultureInfo.InvariantCulture, $"| {label} | {first["total"]:N0} | {lat.Samples} | {lat.P50:F1} | {lat.P95:F1} | {lat.P99:F1} | {lat.P95 / baseline.P95:F1}× |"));
                Console.WriteLine(rows[^1]);
            }

            var oldList = await MeasureAsync(5, () => client.GetAsync("api/customers?q=omer%20000424"));

            // 5. Mirror lag: value writes through the API at a fixed rate; lag = applied_at - created_at of their outbox rows.
            var orgIds = await IdsAsync(db, tenantId, "SELECT id FROM records WHERE entity = 'Organization' ORDER BY random()");
            var low = await WriteAtRateAsync(client, orgIds, 0, Math.Min(50, writeRate), 10, Id("seats"));
            var high = await WriteAtRateAsync(client, orgIds, low.Used, writeRate, writeSeconds, Id("seats"));
            var lowLag = await LagAsync(db, low.From, low.To);
            var highLag = await LagAsync(db, high.From, high.To);

            // 6. Same-run before/after at the SQL level, and the plans. "Before" is the previous engine's statements
            // (page and exact count, in one batch) under the row-level-security policy search_documents had (restored for
            // the measurement by the table's owner, the app role, then dropped again); "after" is today's engine's
            // statements (count up to 1,001, then the page) without it. Both as the app role, same data, same minute.
            // Walk: for a sort by a number field, today's page beyond 1,000 matches walks search_sort_keys (the field's
            // values in order, each document checked against the conditions; a range on the sorted field bounds the walk).
            string Walk(string field, string direction, string bounds = "") =>
                $"FROM search_sort_keys k CROSS JOIN LATERAL (SELECT record_id FROM search_documents WHERE {{0}} AND record_id = k.record_id) d WHERE k.tenant_id = '{tenantId}' AND k.field_id = '{Id(field)}'{bounds} ORDER BY k.value {direction}, k.record_id {direction}";
            // Keys: the first statement's redundant condition for a number range (the range through search_sort_keys).
            string Keys(string field, int gte, int lte) =>
                $" AND record_id IN (SELECT k.record_id FROM search_sort_keys k WHERE k.tenant_id = '{tenantId}' AND k.field_id = '{Id(field)}' AND k.value >= '{gte}'::jsonb AND k.value <= '{lte}'::jsonb)";
            var where = new (string Label, string Where, string Order, string? Walk)[]
            {
                ("customers: email domain `@example7.com`", $"tenant_id = '{tenantId}' AND entity = 'Customer' AND (search_text LIKE '%@example7.com%' OR text_vector @@ plainto_tsquery('simple', '@example7.com'))", "name_sort, record_id", null),
                ("customers: matches nothing", $"tenant_id = '{tenantId}' AND entity = 'Customer' AND (search_text LIKE '%zzqqxx%' OR text_vector @@ plainto_tsquery('simple', 'zzqqxx'))", "name_sort, record_id", null),
                ("customers: plan in (Pro, Enterprise) and score 50..59, by name", $"tenant_id = '{tenantId}' AND entity = 'Customer' AND (field_values @> '{{\"{Id("plan")}\": \"{plans[1]}\"}}' OR field_values @> '{{\"{Id("plan")}\": \"{plans[2]}\"}}') AND (CASE WHEN jsonb_typeof(field_values -> '{Id("score")}') = 'number' THEN (field_values ->> '{Id("score")}')::numeric END) >= 50 AND (CASE WHEN jsonb_typeof(field_values -> '{Id("score")}') = 'number' THEN (field_values ->> '{Id("score")}')::numeric END) <= 59", "name_sort, record_id", null),
                ("customers: vip, by score descending", $"tenant_id = '{tenantId}' AND entity = 'Customer' AND field_values @> '{{\"{Id("vip")}\": true}}'", $"COALESCE(field_values -> '{Id("score")}', 'null'::jsonb) DESC, record_id DESC", Walk("score", "DESC")),
                ("organizations: tier Gold and seats 100..199, by seats descending", $"tenant_id = '{tenantId}' AND entity = 'Organization' AND field_values @> '{{\"{Id("tier")}\": \"{tiers[0]}\"}}' AND (CASE WHEN jsonb_typeof(field_values -> '{Id("seats")}') = 'number' THEN (field_values ->> '{Id("seats")}')::numeric END) >= 100 AND (CASE WHEN jsonb_typeof(field_values -> '{Id("seats")}') = 'number' THEN (field_values ->> '{Id("seats")}')::numeric END) < 200", $"COALESCE(field_values -> '{Id("seats")}', 'null'::jsonb) DESC, record_id DESC", Walk("seats", "DESC", " AND k.value >= '100'::jsonb AND k.value < '200'::jsonb")),
                ("customers of one organization", $"tenant_id = '{tenantId}' AND entity = 'Customer' AND organization_ids @> ARRAY['{someOrg}']::uuid[]", "name_sort, record_id", null),
                ("customers: plan is empty", $"tenant_id = '{tenantId}' AND entity = 'Customer' AND NOT jsonb_exists(field_values, '{Id("plan")}')", "name_sort, record_id", null),
            };
            string Before(int i) => $"SELECT record_id FROM search_documents WHERE {where[i].Where} ORDER BY {where[i].Order} LIMIT 51; SELECT count(*) FROM search_documents WHERE {where[i].Where}";
            string First(int i) => $"WITH matches AS MATERIALIZED (SELECT record_id, name_sort, field_values FROM search_documents WHERE {where[i].Where}{(where[i].Label.Contains("score 50..59", StringComparison.Ordinal) ? Keys("score", 50, 59) : where[i].Label.Contains("seats 100..199", StringComparison.Ordinal) ? Keys("seats", 100, 199) : string.Empty)} LIMIT 1001) SELECT (SELECT count(*) FROM matches), record_id FROM matches ORDER BY {where[i].Order} LIMIT 51";
            string Page(int i) => where[i].Walk is { } walk
                ? "SELECT d.record_id " + string.Format(CultureInfo.InvariantCulture, walk, where[i].Where) + " LIMIT 51"
                : $"SELECT record_id FROM search_documents WHERE {where[i].Where} ORDER BY {where[i].Order} LIMIT 51";
            // Previous: the statements before search_sort_keys (no range through the keys; the page sorts every match).
            string PreviousFirst(int i) => $"WITH matches AS MATERIALIZED (SELECT record_id, name_sort, field_values FROM search_documents WHERE {where[i].Where} LIMIT 1001) SELECT (SELECT count(*) FROM matches), record_id FROM matches ORDER BY {where[i].Order} LIMIT 51";
            string PreviousPage(int i) => $"SELECT record_id FROM search_documents WHERE {where[i].Where} ORDER BY {where[i].Order} LIMIT 51";
            var sqlRows = new List<string>();
            var plansText = new StringBuilder();
            await using (var connection = await OpenAsync(db, tenantId))
            {
                async Task<object?> Run(string sql)
                {
                    await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
                    return await command.ExecuteScalarAsync();
                }

                async Task<(double P50, double P95)> Time(int samples, Func<Task> run)
                {
                    await run();
                    var times = new List<double>();
                    for (var n = 0; n < samples; n++)
                    {
                        var watch = Stopwatch.StartNew();
                        await run();
                        times.Add(watch.Elapsed.TotalMilliseconds);
                    }

                    times.Sort();
                    return (times[(times.Count - 1) / 2], times[Math.Min(times.Count - 1, (int)Math.Ceiling(0.95 * times.Count) - 1)]);
                }

                var afters = new List<(double P50, double P95)>();
                var previous = new List<(double P50, double P95)>();
                for (var i = 0; i < where.Length; i++)
                {
                    var index = i;
                    afters.Add(await Time(20, async () =>
                    {
                        // No row: no match (these statements have no cursor), as the engine reads it. More than 1,000: the page by the sort index.
                        if ((long?)await Run(First(index)) is > 1000)
                        {
                            await Run(Page(index));
                        }
                    }));
                    previous.Add(await Time(20, async () =>
                    {
                        if ((long?)await Run(PreviousFirst(index)) is > 1000)
                        {
                            await Run(PreviousPage(index));
                        }
                    }));
                }

                await Run($"ALTER TABLE search_documents ENABLE ROW LEVEL SECURITY; ALTER TABLE search_documents FORCE ROW LEVEL SECURITY; CREATE POLICY tenant_isolation ON search_documents USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)");
                try
                {
                    for (var i = 0; i < where.Length; i++)
                    {
                        var index = i;
                        var before = await Time(5, () => Run(Before(index)));
                        sqlRows.Add(string.Create(CultureInfo.InvariantCulture, $"| {where[i].Label} | {before.P50:F1} | {before.P95:F1} | {previous[i].P50:F1} | {previous[i].P95:F1} | {afters[i].P50:F1} | {afters[i].P95:F1} | {before.P50 / afters[i].P50:F0}× | {previous[i].P95 / afters[i].P95:F1}× |"));
                        Console.WriteLine(sqlRows[^1]);
                    }
                }
                finally
                {
                    await Run("DROP POLICY tenant_isolation ON search_documents; ALTER TABLE search_documents NO FORCE ROW LEVEL SECURITY; ALTER TABLE search_documents DISABLE ROW LEVEL SECURITY");
                }

                // Plans of today's statements (as the app role, no row-level security on search_documents).
                for (var i = 0; i < where.Length; i++)
                {
                    var counted = (long?)await Run(First(i)) ?? 0;
                    var statements = new List<(string What, string Sql)> { ("up to 1,001 matches: the count, and the page sorted from them", First(i)) };
                    if (counted > 1000)
                    {
                        statements.Add((where[i].Walk is null ? "> 1,000 matches: the page by walking the sort index" : "> 1,000 matches: the page by walking the field's sort keys", Page(i)));
                    }

                    foreach (var (what, sql) in statements)
                    {
                        plansText.AppendLine(CultureInfo.InvariantCulture, $"-- {where[i].Label}: {what}");
                        await using var explain = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, connection);
                        await using var reader = await explain.ExecuteReaderAsync();
                        while (await reader.ReadAsync())
                        {
                            plansText.AppendLine(reader.GetString(0));
                        }

                        plansText.AppendLine();
                    }
                }
            }

            var loadAverage = File.Exists("/proc/loadavg") ? (await File.ReadAllTextAsync("/proc/loadavg")).Trim() : "n/a";
            var memory = File.Exists("/proc/meminfo") ? (await File.ReadAllLinesAsync("/proc/meminfo"))[0].Replace("MemTotal:", string.Empty, StringComparison.Ordinal).Trim() : "n/a";

            md.AppendLine("# Search mirror benchmark");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores shared with other work ({Environment.OSVersion}), .NET {Environment.Version}, PostgreSQL 15 and RabbitMQ 3.10 on 127.0.0.1.");
            await sampling.CancelAsync();
            await sampler;
            var sampled = loadSamples.Count == 0 ? "n/a" : string.Create(CultureInfo.InvariantCulture, $"min {loadSamples.Min():F1}, mean {loadSamples.Average():F1}, max {loadSamples.Max():F1} over {loadSamples.Count} samples");
            md.AppendLine(CultureInfo.InvariantCulture, $"Machine: `nproc` {Environment.ProcessorCount}, memory {memory}; 1-minute load average sampled every 10 s during the run: {sampled}; at the end (1/5/15 min, /proc/loadavg): {loadAverage}.");
            md.AppendLine("App in role `all` (web + outbox relay + consumers) and Jira simulator in this process (Kestrel on loopback), fresh database, own RabbitMQ vhost, Release build, PostgreSQL search engine.");
            md.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/SearchMirror -- {organizations} {customers} {writeRate} {writeSeconds}`");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Data (the loader, plain SQL): {organizations:N0} organizations (select, number, date values), {customers:N0} customers (select, number, checkbox values; every tenth without values), each customer in one organization. Loaded in {load.Elapsed.TotalSeconds:F0} s.");
            md.AppendLine();
            md.AppendLine("## Reindex");
            md.AppendLine();
            md.AppendLine("| what | records | time | records/s |");
            md.AppendLine("|---|---|---|---|");
            md.AppendLine(CultureInfo.InvariantCulture, $"| reindex through the API (read, build documents, upsert; worker in-process) | {run["done"]:N0} | {reindexWatch.Elapsed.TotalSeconds:F1} s (±1 s polling) | {total / reindexWatch.Elapsed.TotalSeconds:N0} (server-side: {run["ratePerSecond"]}) |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| baseline: the same keyset read only, batches of 2,000 | {total:N0} | {scan.Elapsed.TotalSeconds:F1} s | {total / scan.Elapsed.TotalSeconds:N0} |");
            md.AppendLine();
            md.AppendLine("Progress as the admin UI sees it (every 10th poll):");
            md.AppendLine();
            md.AppendLine("```");
            md.Append(progress);
            md.AppendLine("```");
            md.AppendLine();
            md.AppendLine("## Search latency (ms, sequential requests, client-measured over HTTP with a context JWT)");
            md.AppendLine();
            md.AppendLine("| query | total | samples | p50 | p95 | p99 | p95 vs baseline |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            md.AppendLine(CultureInfo.InvariantCulture, $"| baseline: `GET /api/whoami` (auth, role, no query) | | {baseline.Samples} | {baseline.P50:F1} | {baseline.P95:F1} | {baseline.P99:F1} | 1.0× |");
            foreach (var row in rows)
            {
                md.AppendLine(row);
            }

            md.AppendLine(CultureInfo.InvariantCulture, $"| before: `GET /api/customers?q=omer 000424` (the list endpoint's ILIKE) | | {oldList.Samples} | {oldList.P50:F1} | {oldList.P95:F1} | {oldList.P99:F1} | {oldList.P95 / baseline.P95:F1}× |");
            md.AppendLine();
            md.AppendLine("Every search response counts its total up to 1,000 (beyond that: `total` 1,000 and `totalExact` false).");
            md.AppendLine();
            md.AppendLine("### Same run, SQL level: the previous engine's statements vs today's (ms, as the app role)");
            md.AppendLine();
            md.AppendLine("Before: page + exact count under the row-level-security policy search_documents had (restored for this measurement), 5 samples. Previous: the statements before the sort keys (no range through `search_sort_keys`; beyond 1,000 matches the page sorts every match), 20 samples. After: today's statements without the policy (up to 1,001 matches, their count and the page sorted from them, a number range also through the sort keys; beyond 1,000 matches also the page by the name index or the field's sort keys), 20 samples.");
            md.AppendLine();
            md.AppendLine("| query | before p50 | before p95 | previous p50 | previous p95 | after p50 | after p95 | p50 before/after | p95 previous/after |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|");
            foreach (var row in sqlRows)
            {
                md.AppendLine(row);
            }
            md.AppendLine();
            md.AppendLine("## Mirror lag (outbox row committed → applied to the index)");
            md.AppendLine();
            md.AppendLine("Value writes (`PATCH /api/organizations/{id}/values`, one organization each) issued at a fixed rate; lag is `applied_at - created_at` of their outbox rows, from the database.");
            md.AppendLine();
            md.AppendLine("| rate asked | rate achieved | writes | failed | lag p50 | lag p95 | lag p99 | max | p99 commit→sent (relay) | p99 sent→applied (consumer) |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
            md.AppendLine(low.Row(lowLag));
            md.AppendLine(high.Row(highLag));
            md.AppendLine();
            md.AppendLine("## Plans (EXPLAIN (ANALYZE, BUFFERS) of the engine's statements as the app role, same data)");
            md.AppendLine();
            md.AppendLine("```");
            md.Append(plansText);
            md.AppendLine("```");
            await File.WriteAllTextAsync(Path.Combine(root, "bench", "search-mirror.md"), md.ToString());
            Console.WriteLine(md);

            HttpClient Client(string? accountId)
            {
                var http = app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = address, AllowAutoRedirect = false });
                http.Timeout = TimeSpan.FromMinutes(10);
                if (accountId is not null)
                {
                    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", SiteTokens.Context(site, accountId, lifetime: TimeSpan.FromHours(2)));
                }

                return http;
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            if (Environment.GetEnvironmentVariable("SEARCH_MIRROR_KEEP_DATABASE") == "1")
            {
                // For looking at plans afterwards; drop it yourself.
                Console.WriteLine($"database kept: {database}");
            }
            else
            {
                await Exec(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            }

            using var _ = await management.DeleteAsync($"api/vhosts/{vhost}");
        }
    }

    private sealed record Latency(double P50, double P95, double P99, int Samples);

    private static async Task<Latency> MeasureAsync(int samples, Func<Task<HttpResponseMessage>> send)
    {
        var warmup = Stopwatch.StartNew();
        for (var i = 0; i < 3; i++)
        {
            using var warm = await send();
        }

        // A query that takes seconds is measured 5 times, not 60: the run must end, and its p99 says nothing new.
        if (warmup.Elapsed > TimeSpan.FromSeconds(1.5))
        {
            samples = Math.Min(samples, 5);
        }

        var times = new List<double>(samples);
        for (var i = 0; i < samples; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await send();
            await response.Content.ReadAsByteArrayAsync();
            watch.Stop();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }

            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        double P(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
        return new Latency(P(0.5), P(0.95), P(0.99), times.Count);
    }

    private static async Task<string?> CursorAfterPagesAsync(HttpClient client, string entity, JsonObject body, int pages)
    {
        string? cursor = null;
        for (var i = 0; i < pages; i++)
        {
            var page = (JsonObject)body.DeepClone();
            page["cursor"] = cursor;
            var result = JsonNode.Parse(await (await client.PostAsync($"api/search/{entity}", new StringContent(page.ToJsonString(), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync())!;
            cursor = result["nextCursor"]?.GetValue<string>();
        }

        return cursor;
    }

    private sealed record WriteRun(int Asked, int Seconds, int Used, int Failed, double Achieved, DateTimeOffset From, DateTimeOffset To)
    {
        public string Row((double P50, double P95, double P99, double Max, long Count, double RelayP99, double ConsumerP99) lag) => string.Create(CultureInfo.InvariantCulture,
            $"| {Asked}/s for {Seconds} s | {Achieved:F0}/s | {lag.Count:N0} | {Failed} | {lag.P50:F0} ms | {lag.P95:F0} ms | {lag.P99:F0} ms | {lag.Max:F0} ms | {lag.RelayP99:F0} ms | {lag.ConsumerP99:F0} ms |");
    }

    /// <summary>Issues writes on a fixed schedule (open loop: a slow response does not slow the schedule), at most 256 in flight.</summary>
    private static async Task<WriteRun> WriteAtRateAsync(HttpClient client, List<Guid> ids, int offset, int rate, int seconds, string seatsFieldId)
    {
        _ = seatsFieldId;
        var from = DateTimeOffset.UtcNow;
        var count = rate * seconds;
        var failed = 0;
        var gate = new SemaphoreSlim(256);
        var tasks = new List<Task>(count);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromSeconds((double)i / rate);
            var wait = due - watch.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            await gate.WaitAsync();
            var id = ids[offset + i];
            var seats = i % 500;
            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Patch, $"api/organizations/{id}/values")
                    {
                        Content = new StringContent($"{{\"values\":{{\"seats\":{seats}}}}}", Encoding.UTF8, "application/json"),
                    };
                    request.Headers.TryAddWithoutValidation("If-Match", "W/\"1\"");
                    using var response = await client.SendAsync(request);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await Task.WhenAll(tasks);
        watch.Stop();
        return new WriteRun(rate, seconds, offset + count, failed, count / watch.Elapsed.TotalSeconds, from, DateTimeOffset.UtcNow);
    }

    private static async Task<(double P50, double P95, double P99, double Max, long Count, double RelayP99, double ConsumerP99)> LagAsync(string db, DateTimeOffset from, DateTimeOffset to)
    {
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            await using var pending = new NpgsqlCommand("SELECT count(*) FROM outbox_messages WHERE applied_at IS NULL AND type = 'record.changed.v1'", connection);
            if ((long)(await pending.ExecuteScalarAsync())! == 0 || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(500);
        }

        await using var command = new NpgsqlCommand(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY l), percentile_cont(0.95) WITHIN GROUP (ORDER BY l), percentile_cont(0.99) WITHIN GROUP (ORDER BY l), max(l), count(*),
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY r), percentile_cont(0.99) WITHIN GROUP (ORDER BY c)
            FROM (SELECT extract(epoch FROM applied_at - created_at) * 1000 AS l, extract(epoch FROM sent_at - created_at) * 1000 AS r,
                         extract(epoch FROM applied_at - sent_at) * 1000 AS c FROM outbox_messages
                  WHERE type = 'record.changed.v1' AND created_at BETWEEN @from AND @to AND applied_at IS NOT NULL) x
            """, connection);
        command.Parameters.AddWithValue("from", from);
        command.Parameters.AddWithValue("to", to);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.IsDBNull(0) ? (0, 0, 0, 0, 0, 0, 0) : (reader.GetDouble(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3), reader.GetInt64(4), reader.GetDouble(5), reader.GetDouble(6));
    }

    private static async Task<List<Guid>> IdsAsync(string db, Guid tenantId, string sql)
    {
        await using var connection = await OpenAsync(db, tenantId);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private static int Arg(string[] args, int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString, Guid tenantId)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var set = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{tenantId}', false)", connection);
        await set.ExecuteNonQueryAsync();
        return connection;
    }

    private static async Task ExecAsync(string connectionString, Guid tenantId, string sql)
    {
        await using var connection = await OpenAsync(connectionString, tenantId);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string connectionString, Guid? tenantId, string sql)
    {
        await using var connection = tenantId is { } t ? await OpenAsync(connectionString, t) : new NpgsqlConnection(connectionString);
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync();
        }

        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }



    private static async Task Exec(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

internal sealed class AppFactory(string databaseUrl, string secretsKey, string rabbitMqUrl, WebApplicationFactory<SimulatorProgram> simulator) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("APP_KEY", "com.connectapp.bench");
        builder.UseSetting("APP_BASE_URL", "https://connectapp.bench");
        builder.UseSetting("DATABASE_URL", databaseUrl);
        builder.UseSetting("RABBITMQ_URL", rabbitMqUrl);
        builder.UseSetting("ELASTICSEARCH_URL", string.Empty);
        builder.UseSetting("SECRETS_KEY", secretsKey);
        builder.UseSetting("ALLOWED_HOST_SUFFIXES", ".atlassian.net");
        builder.UseSetting("CONNECT_INSTALL_KEYS_URL", "http://simulator/connect-install-keys");
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        builder.ConfigureTestServices(services =>
        {
            services.AddHttpClient(InstallKeyProvider.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => simulator.Server.CreateHandler());
            services.AddHttpClient("jira").ConfigurePrimaryHttpMessageHandler(() => simulator.Server.CreateHandler());
            // The directory sync after install (JsmClient.HttpClientName): to the simulator, not DNS retries that flood the log.
            services.AddHttpClient("jira-directory").ConfigurePrimaryHttpMessageHandler(() => simulator.Server.CreateHandler());
        });
    }
}
