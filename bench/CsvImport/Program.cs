// CSV import benchmark: generates an N-row organizations CSV (default 100,000), uploads it to the real app (hosted
// in-process on Kestrel, worker included, fresh PostgreSQL database), polls progress until the job ends, exports
// the result, re-imports the export (the "nothing changed" path), and writes bench/csv-import.md.
// Usage: dotnet run -c Release --project bench/CsvImport -- [rows]
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

internal static class CsvImportBench
{
    public static async Task Main(string[] args)
    {
        var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var root = FindRoot();
        var serverUrl = Environment.GetEnvironmentVariable("TEST_DATABASE_URL") ?? "postgres://app:app_pw@127.0.0.1:5432/appdb";
        var database = "connectapp_bench_" + Guid.NewGuid().ToString("N")[..10];
        var admin = ToConnectionString(serverUrl);
        await Exec(admin, $"CREATE DATABASE \"{database}\"");
        var databaseUrl = new UriBuilder(serverUrl) { Path = "/" + database }.Uri.ToString();
        var secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var results = new StringBuilder();

        // Imports travel through RabbitMQ now: a vhost of its own, so no other app on the shared broker consumes them.
        var vhost = "connectapp-bench-" + Guid.NewGuid().ToString("N")[..8];
        using var management = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:15672/") };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        (await management.PutAsync($"api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await management.PutAsync($"api/permissions/{vhost}/guest", new StringContent("{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        try
        {
            // The migrate role, as a release would run it.
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

            // Outside a test project, WebApplicationFactory guesses the content root from the solution layout; point it at the binaries.
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_JIRASIMULATOR", AppContext.BaseDirectory);
            Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_CONNECTAPP", AppContext.BaseDirectory);
            await using var simulator = new WebApplicationFactory<SimulatorProgram>();
            _ = simulator.Server;
            await using var app = new AppFactory(databaseUrl, secretsKey, $"amqp://guest:guest@127.0.0.1:5672/{vhost}", simulator);
            app.UseKestrel(0);
            app.StartServer();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First() + "/");

            var site = new SimulatedSite("bench-" + Guid.NewGuid().ToString("N")[..6], new Uri($"https://bench-{Guid.NewGuid():N}.atlassian.net"));
            site = new SimulatedSite(site.Name, new Uri($"https://{site.Name}.atlassian.net"));
            simulator.Services.GetRequiredService<SiteDirectory>().Add(site);
            using (var installResponse = await new ConnectAppInstaller(simulator.Services.GetRequiredService<InstallKeyServer>()).InstallAsync(Client(null), site))
            {
                installResponse.EnsureSuccessStatusCode();
            }

            site.AddUser("557058:bench-admin", SiteRole.Admin);
            var adminClient = Client("557058:bench-admin");
            foreach (var field in new object[]
            {
                new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver", "Bronze" } },
                new { entity = "organization", key = "seats", label = "Seats", type = "number", decimals = 0 },
                new { entity = "organization", key = "renewal", label = "Renewal", type = "date" },
                new { entity = "organization", key = "notes", label = "Notes", type = "paragraph" },
            })
            {
                (await adminClient.PostAsJsonAsync("api/admin/fields", field)).EnsureSuccessStatusCode();
            }

            // The file is written to disk and streamed from there: the client does not hold it either.
            var file = Path.Combine(Path.GetTempPath(), $"{database}.csv");
            await using (var writer = new StreamWriter(file, false, new UTF8Encoding(false)))
            {
                await writer.WriteAsync("jsmId,name,tier,seats,renewal,notes\n");
                string[] tiers = ["Gold", "Silver", "Bronze"];
                for (var i = 0; i < rows; i++)
                {
                    await writer.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                        $"{100000 + i},Organization {i:D6},{tiers[i % 3]},{i % 500},2026-{1 + (i % 12):D2}-{1 + (i % 28):D2},\"Row {i}, with a comma and \"\"quotes\"\"\"\n"));
                }
            }

            var fileBytes = new FileInfo(file).Length;
            Console.WriteLine($"generated {rows:N0} rows, {fileBytes / 1048576.0:F1} MiB");
            var first = await ImportAsync(file, "first import (creates every record)");
            var exportWatch = Stopwatch.StartNew();
            var exportFile = Path.Combine(Path.GetTempPath(), $"{database}-export.csv");
            await using (var exportStream = File.Create(exportFile))
            {
                await using var body = await adminClient.GetStreamAsync("api/organizations/export.csv");
                await body.CopyToAsync(exportStream);
            }

            exportWatch.Stop();
            var exportBytes = new FileInfo(exportFile).Length;
            Console.WriteLine($"export: {exportWatch.Elapsed.TotalSeconds:F1} s, {exportBytes / 1048576.0:F1} MiB");
            var second = await ImportAsync(exportFile, "re-import of the export (nothing changes)");
            var auditRows = await Scalar(ToConnectionString(databaseUrl), "SELECT count(*) FROM audit_entries");

            GC.Collect();
            var process = Process.GetCurrentProcess();
            results.AppendLine("# CSV import benchmark");
            results.AppendLine();
            results.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores ({Environment.OSVersion}), .NET {Environment.Version}, PostgreSQL on 127.0.0.1.");
            results.AppendLine("App, worker (role `all`) and Jira simulator in one process (Kestrel on loopback), fresh database, Release build.");
            results.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/CsvImport -- {rows}`");
            results.AppendLine();
            results.AppendLine(CultureInfo.InvariantCulture, $"File: {rows:N0} organization rows, 6 columns (jsmId, name, select, number, date, quoted paragraph), {fileBytes / 1048576.0:F1} MiB.");
            results.AppendLine();
            results.AppendLine("| step | upload (202) | processing | total | rows/s | failed rows |");
            results.AppendLine("|---|---|---|---|---|---|");
            results.AppendLine(first.Row);
            results.AppendLine(second.Row);
            results.AppendLine(CultureInfo.InvariantCulture, $"| export (streamed, {exportBytes / 1048576.0:F1} MiB) | | | {exportWatch.Elapsed.TotalSeconds:F1} s | {rows / exportWatch.Elapsed.TotalSeconds:N0} | |");
            results.AppendLine();
            results.AppendLine(CultureInfo.InvariantCulture, $"Audit rows after both imports: {auditRows:N0} (first import: 1 record.created + 4 value.imported per row; the re-import adds none).");
            results.AppendLine(CultureInfo.InvariantCulture, $"Memory of the whole process (app + worker + simulator + this client): peak working set {process.PeakWorkingSet64 / 1048576} MiB, managed heap after the run {GC.GetTotalMemory(true) / 1048576} MiB, against a {fileBytes / 1048576.0:F1} MiB file; the file is read in 1 MiB chunks and applied 500 rows per transaction.");
            results.AppendLine();
            results.AppendLine("Progress as the UI sees it (GET /api/imports/{id} polled every second, first import; every 10th poll shown):");
            results.AppendLine();
            results.AppendLine("```");
            results.Append(first.Progress);
            results.AppendLine("```");
            await File.WriteAllTextAsync(Path.Combine(root, "bench", "csv-import.md"), results.ToString());
            Console.WriteLine(results);
            File.Delete(file);
            File.Delete(exportFile);

            async Task<(string Row, string Progress)> ImportAsync(string path, string label)
            {
                var watch = Stopwatch.StartNew();
                await using var stream = File.OpenRead(path);
                using var content = new StreamContent(stream, 64 * 1024);
                content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
                using var response = await adminClient.PostAsync("api/imports?entity=organization", content);
                var accepted = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"upload: {(int)response.StatusCode} {accepted.ToJsonString()}");
                }

                var uploaded = watch.Elapsed;
                var progress = new StringBuilder();
                var polls = 0;
                JsonNode job;
                while (true)
                {
                    await Task.Delay(1000);
                    job = JsonNode.Parse(await adminClient.GetStringAsync($"api/imports/{accepted["id"]}"))!;
                    var ended = job["status"]!.GetValue<string>() is "succeeded" or "failed";
                    if (polls++ % 10 == 0 || ended)
                    {
                        progress.AppendLine(CultureInfo.InvariantCulture, $"{watch.Elapsed.TotalSeconds,6:F1} s  {job["status"]}  done {job["done"]}/{job["total"]}  failed {job["failed"]}");
                    }

                    if (ended)
                    {
                        break;
                    }
                }

                watch.Stop();
                var processing = watch.Elapsed - uploaded;
                Console.WriteLine($"{label}: {job.ToJsonString()}");
                return (string.Create(CultureInfo.InvariantCulture,
                    $"| {label} | {uploaded.TotalSeconds:F1} s | {processing.TotalSeconds:F1} s (±1 s polling) | {watch.Elapsed.TotalSeconds:F1} s | {rows / watch.Elapsed.TotalSeconds:N0} | {job["failed"]} |"), progress.ToString());
            }

            HttpClient Client(string? accountId)
            {
                var client = app.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = address, AllowAutoRedirect = false });
                client.Timeout = TimeSpan.FromMinutes(10);
                if (accountId is not null)
                {
                    client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", SiteTokens.Context(site, accountId, lifetime: TimeSpan.FromHours(1)));
                }

                return client;
            }
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await Exec(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            using var _ = await management.DeleteAsync($"api/vhosts/{vhost}");
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ConnectApp.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
    }

    private static string ToConnectionString(string url)
    {
        var uri = new Uri(url);
        var user = uri.UserInfo.Split(':', 2);
        return new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = uri.AbsolutePath.TrimStart('/'),
            Username = Uri.UnescapeDataString(user[0]),
            Password = user.Length > 1 ? Uri.UnescapeDataString(user[1]) : null,
        }.ConnectionString;
    }

    private static async Task Exec(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> Scalar(string connectionString, string sql)
    {
        // The app role is subject to row-level security, so count as the bench site's tenant would be impossible
        // without its id; the database is fresh and holds one tenant, so read it and act as it.
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var tenant = new NpgsqlCommand("SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants LIMIT 1), false)", connection))
        {
            await tenant.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>The app as the tests host it: Production environment, the simulator as key server and Jira.</summary>
internal sealed class AppFactory(string databaseUrl, string secretsKey, string rabbitMqUrl, WebApplicationFactory<SimulatorProgram> simulator) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("APP_KEY", "com.connectapp.bench");
        builder.UseSetting("APP_BASE_URL", "https://connectapp.bench");
        builder.UseSetting("DATABASE_URL", databaseUrl);
        builder.UseSetting("RABBITMQ_URL", rabbitMqUrl);
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
