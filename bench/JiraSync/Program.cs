// JSM directory sync benchmark: the Jira simulator, the app's web role and its worker role as three separate
// processes (fresh PostgreSQL database, own RabbitMQ vhost). A simulated site with N customers (default 100,000) in
// 1,000 organizations installs the app; the install queues a full sync, which the worker runs. Then an admin asks for
// a second sync of the unchanged directory. Reports wall time, rows/s and the worker's peak RSS (VmHWM), and writes
// bench/jira-sync.md. Usage: dotnet run -c Release --project bench/JiraSync -- [customers] [organizations]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

internal static class JiraSyncBench
{
    private static readonly List<Process> Started = [];

    public static async Task<int> Main(string[] args)
    {
        var customers = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var organizations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000;
        var root = FindRoot();
        var appDll = Path.Combine(root, "src", "ConnectApp", "bin", "Release", "net10.0", "ConnectApp.dll");
        var simulatorDll = Path.Combine(root, "src", "JiraSimulator", "bin", "Release", "net10.0", "JiraSimulator.dll");
        var serverUrl = Environment.GetEnvironmentVariable("TEST_DATABASE_URL") ?? "postgres://app:app_pw@127.0.0.1:5432/appdb";
        var database = "connectapp_bench_" + Guid.NewGuid().ToString("N")[..10];
        var admin = ToConnectionString(serverUrl);
        await Exec(admin, $"CREATE DATABASE \"{database}\"");
        var databaseUrl = new UriBuilder(serverUrl) { Path = "/" + database }.Uri.ToString();
        var vhost = "connectapp-bench-" + Guid.NewGuid().ToString("N")[..8];
        using var management = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:15672/") };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        (await management.PutAsync($"api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await management.PutAsync($"api/permissions/{vhost}/guest", new StringContent("{\"configure\":\".*\",\"write\":\".*\",\"read\":\".*\"}", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var appPort = FreePort();
        var simulatorPort = FreePort();
        var env = new Dictionary<string, string>
        {
            ["DATABASE_URL"] = databaseUrl,
            ["RABBITMQ_URL"] = $"amqp://guest:guest@127.0.0.1:5672/{vhost}",
            ["SECRETS_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["PORT"] = appPort.ToString(CultureInfo.InvariantCulture),
            ["APP_KEY"] = "com.connectapp.bench",
            ["APP_BASE_URL"] = $"http://127.0.0.1:{appPort}",
            ["CONNECT_INSTALL_KEYS_URL"] = $"http://127.0.0.1:{simulatorPort}/connect-install-keys",
            ["ALLOWED_HOST_SUFFIXES"] = "127.0.0.1",
            ["Serilog__MinimumLevel__Default"] = "Warning",
        };
        try
        {
            var migrate = Start(appDll, "migrate", env);
            await migrate.WaitForExitAsync();
            if (migrate.ExitCode != 0)
            {
                throw new InvalidOperationException("migrate failed");
            }

            Start(simulatorDll, null, new() { ["SIMULATOR_PORT"] = simulatorPort.ToString(CultureInfo.InvariantCulture), ["APP_URL"] = $"http://127.0.0.1:{appPort}", ["Logging__LogLevel__Default"] = "Warning" });
            Start(appDll, "web", env);
            var worker = Start(appDll, "worker", env);
            using var simulator = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{simulatorPort}/"), Timeout = TimeSpan.FromMinutes(5) };
            using var app = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{appPort}/"), Timeout = TimeSpan.FromMinutes(5) };
            await WaitReadyAsync(simulator, "");
            await WaitReadyAsync(app, "health/ready");
            await Task.Delay(2000); // the worker declares its queues and starts its consumers

            var generate = Stopwatch.StartNew();
            (await simulator.PostAsync($"admin/sites/bench/directory/generate?organizations={organizations}&customers={customers}", null)).EnsureSuccessStatusCode();
            generate.Stop();
            var expectedMemberships = customers + (organizations > 1 ? (customers + 6) / 7 : 0);
            Console.WriteLine($"simulated site: {organizations:N0} organizations, {customers:N0} customers, {expectedMemberships:N0} memberships (made in {generate.Elapsed.TotalSeconds:F1} s)");
            (await simulator.PostAsync("admin/sites/bench/users?accountId=557058:bench-admin&role=Admin", null)).EnsureSuccessStatusCode();

            var first = Stopwatch.StartNew();
            (await simulator.PostAsync("admin/sites/bench/install", null)).EnsureSuccessStatusCode();
            var firstRun = await PollAsync(app, simulator, worker, null, first);
            var workerPeakAfterFirst = PeakRssMiB(worker);

            var second = Stopwatch.StartNew();
            var started = await Authorized(app, simulator, HttpMethod.Post, "api/admin/sync");
            var secondRun = await PollAsync(app, simulator, worker, started["id"]!.GetValue<string>(), second);

            var counts = await CountsAsync(ToConnectionString(databaseUrl));
            var results = new StringBuilder();
            results.AppendLine("# JSM directory sync benchmark");
            results.AppendLine();
            results.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, {MemTotal()} memory ({Environment.OSVersion}), .NET {Environment.Version}, PostgreSQL and RabbitMQ on 127.0.0.1.");
            results.AppendLine("Three processes on loopback: the Jira simulator, the app's `web` role and its `worker` role (Release build, fresh database, own vhost).");
            results.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/JiraSync -- {customers} {organizations}`");
            results.AppendLine();
            results.AppendLine(CultureInfo.InvariantCulture, $"Simulated site: {organizations:N0} organizations, {customers:N0} customers on one service desk, {expectedMemberships:N0} memberships; JSM pages of 50, no injected faults or latency.");
            results.AppendLine();
            results.AppendLine("| run | wall time (install / POST → succeeded) | read phase | write phase | records | rows/s (records / wall) | created | updated | worker peak RSS |");
            results.AppendLine("|---|---|---|---|---|---|---|---|---|");
            results.AppendLine(firstRun.Row("first sync, on install (creates everything)", workerPeakAfterFirst));
            results.AppendLine(secondRun.Row("second sync, admin request (nothing changed)", PeakRssMiB(worker)));
            results.AppendLine();
            results.AppendLine(CultureInfo.InvariantCulture, $"Side by side: the unchanged resync took {secondRun.Wall.TotalSeconds / firstRun.Wall.TotalSeconds:P0} of the first sync's wall time (it reads the same {firstRun.Fetched:N0} items from JSM, then writes nothing).");
            results.AppendLine(CultureInfo.InvariantCulture, $"Stored after both runs: {counts.Records:N0} records, {counts.Memberships:N0} memberships, {counts.Audit:N0} audit rows (one record.created per record from the first run; the second run wrote none).");
            results.AppendLine("Worker peak RSS is the kernel's VmHWM of the worker process (/proc/<pid>/status): everything it ever held: the membership map, the accountIds seen and the customer pages read ahead (the customers are streamed, ADR 15), the search mirror's and the relay's work.");
            results.AppendLine();
            results.AppendLine("Progress as an admin sees it (GET /api/admin/sync polled every second; first sync, every 5th poll shown):");
            results.AppendLine();
            results.AppendLine("```");
            results.Append(firstRun.Progress);
            results.AppendLine("```");
            await File.WriteAllTextAsync(Path.Combine(root, "bench", "jira-sync.md"), results.ToString());
            Console.WriteLine(results);
            return 0;
        }
        finally
        {
            foreach (var process in Started.Where(p => !p.HasExited))
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            NpgsqlConnection.ClearAllPools();
            await Exec(admin, $"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
            using var _ = await management.DeleteAsync($"api/vhosts/{vhost}");
        }
    }

    private sealed record RunResult(JsonObject Run, TimeSpan Wall, TimeSpan Reading, TimeSpan Writing, long Fetched, string Progress)
    {
        public string Row(string label, double peakMiB) => string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {Wall.TotalSeconds:F1} s | {Reading.TotalSeconds:F1} s | {Writing.TotalSeconds:F1} s | {Run["done"]} | {Run["done"]!.GetValue<long>() / Wall.TotalSeconds:N0} | {Run["created"]} | {Run["updated"]} | {peakMiB:N0} MiB |");
    }

    private static async Task<RunResult> PollAsync(HttpClient app, HttpClient simulator, Process worker, string? id, Stopwatch watch)
    {
        var progress = new StringBuilder();
        TimeSpan? writingSince = null;
        for (var polls = 0; ; polls++)
        {
            await Task.Delay(1000);
            JsonObject run;
            if (id is null)
            {
                var list = (JsonArray)JsonNode.Parse(await (await Send(app, simulator, HttpMethod.Get, "api/admin/sync")).Content.ReadAsStringAsync())!;
                if (list.Count == 0)
                {
                    continue;
                }

                run = list[0]!.AsObject();
            }
            else
            {
                run = JsonNode.Parse(await (await Send(app, simulator, HttpMethod.Get, $"api/admin/sync/{id}")).Content.ReadAsStringAsync())!.AsObject();
            }

            var status = run["status"]!.GetValue<string>();
            if (run["phase"]!.GetValue<string>() is "writing" or "done" && writingSince is null)
            {
                writingSince = watch.Elapsed;
            }

            var ended = status is "succeeded" or "failed";
            if (polls % 5 == 0 || ended)
            {
                progress.AppendLine(CultureInfo.InvariantCulture,
                    $"{watch.Elapsed.TotalSeconds,6:F1} s  {status,-9} {run["phase"],-8} fetched {run["fetched"],7}  done {run["done"],7}/{run["total"]?.ToString() ?? "?",-7} {run["ratePerSecond"],7}/s  ETA {run["etaSeconds"]?.ToString() ?? "?"} s  worker RSS {RssMiB(worker):N0} MiB");
            }

            if (ended)
            {
                watch.Stop();
                if (status != "succeeded")
                {
                    throw new InvalidOperationException("sync failed: " + run.ToJsonString());
                }

                Console.WriteLine(run.ToJsonString());
                var started = run["startedAt"]!.GetValue<DateTimeOffset>();
                var finished = run["finishedAt"]!.GetValue<DateTimeOffset>();
                var total = finished - started;
                var writing = TimeSpan.FromSeconds(run["done"]!.GetValue<long>() / Math.Max(run["ratePerSecond"]!.GetValue<double>(), 0.001));
                return new RunResult(run, watch.Elapsed, total - writing, writing, run["fetched"]!.GetValue<long>(), progress.ToString());
            }
        }
    }

    private static async Task<JsonObject> Authorized(HttpClient app, HttpClient simulator, HttpMethod method, string path)
    {
        using var response = await Send(app, simulator, method, path);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {body}");
        }

        return JsonNode.Parse(body)!.AsObject();
    }

    private static async Task<HttpResponseMessage> Send(HttpClient app, HttpClient simulator, HttpMethod method, string path)
    {
        var token = await simulator.GetStringAsync("admin/sites/bench/context-token?accountId=557058:bench-admin");
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("JWT", token);
        return await app.SendAsync(request);
    }

    private static Process Start(string dll, string? role, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        if (role is not null)
        {
            info.ArgumentList.Add(role);
        }

        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info)!;
        var name = Path.GetFileNameWithoutExtension(dll) + (role is null ? string.Empty : " " + role);
        process.OutputDataReceived += (_, e) => { if (e.Data?.Contains("\"@l\":\"Error\"", StringComparison.Ordinal) == true || e.Data?.Contains("fail:", StringComparison.Ordinal) == true) { Console.WriteLine($"[{name}] {e.Data}"); } };
        process.ErrorDataReceived += (_, e) => { if (!string.IsNullOrEmpty(e.Data)) { Console.WriteLine($"[{name}!] {e.Data}"); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Started.Add(process);
        return process;
    }

    private static async Task WaitReadyAsync(HttpClient client, string path)
    {
        for (var i = 0; i < 120; i++)
        {
            try
            {
                using var response = await client.GetAsync(path);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(500);
        }

        throw new InvalidOperationException($"{client.BaseAddress}{path} never became ready");
    }

    private static double PeakRssMiB(Process process) => StatusKiB(process, "VmHWM:") / 1024.0;

    private static double RssMiB(Process process) => StatusKiB(process, "VmRSS:") / 1024.0;

    private static long StatusKiB(Process process, string key)
    {
        var line = File.ReadLines($"/proc/{process.Id}/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static string MemTotal()
    {
        var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return string.Create(CultureInfo.InvariantCulture, $"{long.Parse(line[9..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1048576.0:F1} GiB");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(long Records, long Memberships, long Audit)> CountsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var tenant = new NpgsqlCommand("SELECT set_config('app.tenant_id', (SELECT id::text FROM tenants LIMIT 1), false)", connection))
        {
            await tenant.ExecuteNonQueryAsync();
        }

        async Task<long> Count(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return (long)(await command.ExecuteScalarAsync())!;
        }

        return (await Count("SELECT count(*) FROM records"), await Count("SELECT count(*) FROM memberships"), await Count("SELECT count(*) FROM audit_entries"));
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
}
