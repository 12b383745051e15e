// Tenant purge benchmark: a tenant with 1,000,000 customers (default; the first argument scales it) is deleted on
// request through the real path (two-step admin API → outbox → RabbitMQ → the purge consumer, batches of 5,000 rows),
// while an agent of another tenant keeps loading its issue panel; that panel's latency before and during the purge.
// The real app (role all: web + relay + consumers + Quartz) in-process on Kestrel, the Jira simulator, a fresh
// PostgreSQL database and a RabbitMQ vhost of its own. Writes bench/tenant-purge.md.
// Usage: dotnet run -c Release --project bench/TenantPurge -- [customers] [panel samples before]
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

internal static class TenantPurgeBench
{
    public static async Task Main(string[] args)
    {
        var customers = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var baselineSamples = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500;
        var organizations = Math.Max(1, customers / 10);
        var root = BenchHost.FindRoot();
        var serverUrl = Environment.GetEnvironmentVariable("TEST_DATABASE_URL") ?? "postgres://app:app_pw@127.0.0.1:5432/appdb";
        var database = "connectapp_bench_" + Guid.NewGuid().ToString("N")[..10];
        await Exec(BenchHost.ToConnectionString(serverUrl), $"CREATE DATABASE \"{database}\"");
        var databaseUrl = new UriBuilder(serverUrl) { Path = "/" + database }.Uri.ToString();
        var db = BenchHost.ToConnectionString(databaseUrl);
        var vhost = "connectapp-bench-" + Guid.NewGuid().ToString("N")[..8];
        using var management = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:15672/") };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        (await management.PutAsync($"api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await management.PutAsync($"api/permissions/{vhost}/guest", new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
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
            HttpClient Client(SimulatedSite? site, string? accountId)
            {
                var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(5) };
                if (site is not null)
                {
                    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", SiteTokens.Context(site, accountId, lifetime: TimeSpan.FromHours(2)));
                }

                return client;
            }

            async Task<(SimulatedSite Site, Guid Id)> InstallAsync(string prefix)
            {
                var name = prefix + "-" + Guid.NewGuid().ToString("N")[..6];
                var site = new SimulatedSite(name, new Uri($"https://{name}.atlassian.net"));
                simulator.Services.GetRequiredService<SiteDirectory>().Add(site);
                using var response = await new ConnectAppInstaller(simulator.Services.GetRequiredService<InstallKeyServer>()).InstallAsync(Client(null, null), site);
                response.EnsureSuccessStatusCode();
                var id = (Guid)(await ScalarAsync(db, null, $"SELECT id FROM tenants WHERE client_key = '{site.ClientKey}'"))!;
                return (site, id);
            }

            var (big, bigId) = await InstallAsync("big");
            var (small, smallId) = await InstallAsync("small");
            big.AddUser("557058:bench-admin", SiteRole.Admin);
            small.AddUser("557058:bench-agent", SiteRole.Agent);
            var admin = Client(big, "557058:bench-admin");
            var agent = Client(small, "557058:bench-agent");
            foreach (var (client, site) in new[] { (admin, big), (Client(small, "557058:bench-admin2"), small) })
            {
                site.AddUser("557058:bench-admin2", SiteRole.Admin);
                (await client.PostAsJsonAsync("api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" } })).EnsureSuccessStatusCode();
                (await client.PostAsJsonAsync("api/admin/fields", new { entity = "customer", key = "score", label = "Score", type = "number", decimals = 0 })).EnsureSuccessStatusCode();
            }

            // The loader: plain SQL as each tenant (row-level security applies): organizations, customers, one membership each, an audit row per 10 customers.
            var load = Stopwatch.StartNew();
            await LoadAsync(db, bigId, organizations, customers);
            await LoadAsync(db, smallId, 100, 1000);
            load.Stop();
            var bigRows = await CountAsync(db, bigId);
            var smallBefore = await CountAsync(db, smallId);
            Console.WriteLine($"loaded {bigRows.Values.Sum():N0} rows of the big tenant in {load.Elapsed.TotalSeconds:F1} s");

            var panel = "api/issue-panel?reporter=557058:c1&participants=557058:c2,557058:c3";
            (await agent.GetAsync(panel)).EnsureSuccessStatusCode();
            var before = await MeasureAsync(agent, panel, baselineSamples, null);
            Console.WriteLine($"issue panel before: p50 {before.P50:F1} ms, p99 {before.P99:F1} ms");

            // Deletion on request, two steps, then the purge runs in the worker (in this process) while the panel is measured.
            var request = JsonNode.Parse(await (await admin.PostAsync("api/admin/data-deletion", null)).Content.ReadAsStringAsync())!;
            var watch = Stopwatch.StartNew();
            using (var confirm = await admin.PostAsJsonAsync("api/admin/data-deletion/confirm", new { confirmationToken = request["confirmationToken"]!.GetValue<string>(), confirmationPhrase = request["confirmationPhrase"]!.GetValue<string>() }))
            {
                confirm.EnsureSuccessStatusCode();
            }

            var done = new TaskCompletionSource();
            var poll = Task.Run(async () =>
            {
                while ((string?)await ScalarAsync(db, null, $"SELECT state FROM tenant_purges WHERE purged_tenant_id = '{bigId}' AND state NOT IN ('AwaitingConfirmation')") != "Done")
                {
                    await Task.Delay(100);
                }

                watch.Stop();
                done.SetResult();
            });
            var during = await MeasureAsync(agent, panel, int.MaxValue, done.Task);
            await poll;
            var serverSeconds = (double)(await ScalarAsync(db, null, $"SELECT extract(epoch FROM finished_at - started_at)::float8 FROM tenant_purges WHERE purged_tenant_id = '{bigId}'"))!;
            var counts = (string)(await ScalarAsync(db, null, $"SELECT row_counts::text FROM tenant_purges WHERE purged_tenant_id = '{bigId}'"))!;
            var left = (await CountAsync(db, bigId)).Values.Sum();
            var smallAfter = await CountAsync(db, smallId);
            var smallUnchanged = smallBefore.Where(c => c.Key != "outbox_messages").All(c => smallAfter[c.Key] == c.Value);
            Console.WriteLine($"purge: {watch.Elapsed.TotalSeconds:F1} s (server {serverSeconds:F1} s), left {left}; panel during: p50 {during.P50:F1} ms, p99 {during.P99:F1} ms");

            var md = new StringBuilder();
            md.AppendLine("# Tenant purge benchmark");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores shared with other work ({Memory()}), .NET {Environment.Version}, PostgreSQL 15 and RabbitMQ 3.10 on 127.0.0.1.");
            md.AppendLine("App in role `all` (web + outbox relay + consumers + Quartz) and Jira simulator in this process (Kestrel on loopback), fresh database, own RabbitMQ vhost, Release build, PostgreSQL search engine.");
            md.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/TenantPurge -- {customers} {baselineSamples}`");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Data (plain SQL as each tenant): the purged tenant has {customers:N0} customers, {organizations:N0} organizations, one membership per customer, an audit row per 10 customers, 2 fields, its lifecycle rows — {bigRows.Values.Sum():N0} rows in all; the other tenant 1,000 customers and 100 organizations. Loaded in {load.Elapsed.TotalSeconds:F0} s. The search index of the purged tenant is empty here (the loader bypasses the mirror): its documents would be one more table of the same batched delete.");
            md.AppendLine();
            md.AppendLine("## Purge (deletion on request: confirm → outbox → RabbitMQ → consumer; batches of 5,000 rows, one transaction each)");
            md.AppendLine();
            md.AppendLine("| what | rows | wall time | rows/s | goal |");
            md.AppendLine("|---|---|---|---|---|");
            md.AppendLine(CultureInfo.InvariantCulture, $"| confirm answered → purge record `Done` (client-measured, 100 ms polling) | {bigRows.Values.Sum():N0} | {watch.Elapsed.TotalSeconds:F1} s | {bigRows.Values.Sum() / watch.Elapsed.TotalSeconds:N0} | ≤ 60 s |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| started_at → finished_at (the consumer's own, from the purge record) | | {serverSeconds:F1} s | | |");
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Rows left for the purged tenant afterwards (every `tenant_id` table): {left}. Rows of the other tenant: {smallBefore.Values.Sum():N0} before, {smallAfter.Values.Sum():N0} after ({(smallUnchanged ? "every table's count unchanged" : "CHANGED")}). Purge record row counts: `{counts}`.");
            md.AppendLine();
            md.AppendLine("## The other tenant's issue panel (`GET /api/issue-panel`, reporter + 2 participants; sequential requests, client-measured over HTTP with a context JWT)");
            md.AppendLine();
            md.AppendLine("| when | samples | p50 ms | p95 ms | p99 ms | max ms | p99 vs before | goal |");
            md.AppendLine("|---|---|---|---|---|---|---|---|");
            md.AppendLine(CultureInfo.InvariantCulture, $"| before the purge | {before.Samples} | {before.P50:F1} | {before.P95:F1} | {before.P99:F1} | {before.Max:F1} | 1.0× | |");
            md.AppendLine(CultureInfo.InvariantCulture, $"| during the purge | {during.Samples} | {during.P50:F1} | {during.P95:F1} | {during.P99:F1} | {during.Max:F1} | {during.P99 / before.P99:F2}× | ≤ 2× |");
            md.AppendLine();
            await File.WriteAllTextAsync(Path.Combine(root, "bench", "tenant-purge.md"), md.ToString());
            Console.WriteLine(md);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await management.DeleteAsync($"api/vhosts/{vhost}");
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await Exec(BenchHost.ToConnectionString(serverUrl), $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                    break;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 30)
                {
                    await Task.Delay(1000); // an autovacuum worker (the superuser's) is busy in the big tables; it finishes
                }
            }
        }
    }

    private sealed record Latency(double P50, double P95, double P99, double Max, int Samples);

    /// <summary>Sequential requests: <paramref name="samples"/> of them, or until <paramref name="until"/> completes.</summary>
    private static async Task<Latency> MeasureAsync(HttpClient client, string url, int samples, Task? until)
    {
        var times = new List<double>();
        while (times.Count < samples && until?.IsCompleted != true)
        {
            var watch = Stopwatch.StartNew();
            using var response = await client.GetAsync(url);
            response.EnsureSuccessStatusCode();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        double At(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
        return new Latency(At(0.5), At(0.95), At(0.99), times[^1], times.Count);
    }

    private static async Task LoadAsync(string db, Guid tenantId, int organizations, int customers)
    {
        var fields = new Dictionary<string, string>();
        await using (var connection = await OpenAsync(db, tenantId))
        await using (var read = new NpgsqlCommand("SELECT key, id::text FROM field_definitions", connection))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                fields[reader.GetString(0)] = reader.GetString(1);
            }
        }

        await ExecAsync(db, tenantId, $"""
            INSERT INTO records (id, tenant_id, entity, external_id, name, field_values, version, created_at, updated_at)
            SELECT gen_random_uuid(), '{tenantId}', 'Organization', (100000 + g)::text, 'Organization ' || g, jsonb_build_object(), 1, now(), now()
            FROM generate_series(0, {organizations - 1}) g;
            INSERT INTO records (id, tenant_id, entity, external_id, name, email, field_values, version, created_at, updated_at)
            SELECT gen_random_uuid(), '{tenantId}', 'Customer', '557058:c' || g, 'Customer ' || g, 'user' || g || '@example.com',
                   jsonb_build_object('{fields["score"]}', g % 100), 1, now(), now()
            FROM generate_series(0, {customers - 1}) g;
            ANALYZE records;
            INSERT INTO memberships (tenant_id, customer_id, organization_id)
            SELECT '{tenantId}', c.id, o.id FROM records c
            JOIN records o ON o.entity = 'Organization' AND o.external_id = (100000 + (substring(c.external_id from 9)::int % {organizations}))::text
            WHERE c.entity = 'Customer';
            INSERT INTO audit_entries (tenant_id, record_id, subject, action, actor, occurred_at)
            SELECT tenant_id, id, 'customer', 'record.created', 'loader', now() FROM records WHERE entity = 'Customer' AND substring(external_id from 9)::int % 10 = 0;
            ANALYZE records; ANALYZE memberships; ANALYZE audit_entries;
            """);
    }

    private static async Task<Dictionary<string, long>> CountAsync(string db, Guid tenantId)
    {
        var counts = new Dictionary<string, long>();
        var tables = new List<string>();
        await using var connection = await OpenAsync(db, tenantId);
        await using (var list = new NpgsqlCommand("SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id' AND table_name NOT IN (SELECT table_name FROM information_schema.views)", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        foreach (var table in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\" WHERE tenant_id = '{tenantId}'", connection);
            counts[table] = (long)(await count.ExecuteScalarAsync())!;
        }

        return counts;
    }

    private static string Memory()
    {
        var line = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) : null;
        return line is null ? "memory unknown" : $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024 / 1024} GiB memory";
    }

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
        });
    }
}
