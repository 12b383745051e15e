// The JQL property fan-out for one customer with many issues (docs/adr/0014), side by side in one run, at each simulated
// network round trip: the app as it is (a value change → jql.stamp.v1 → search pages of 100 → one bulk
// POST /rest/api/3/issue/properties/multi per page, each task polled to COMPLETE), against the fan-out before it,
// replayed by this program with the app's client settings (the same search pages, then one PUT per issue, 4 in flight
// per site). Calls counted by the simulator.
//
// dotnet run -c Release --project bench/JqlStamp -- [issues=1000] [latenciesMs=0,100]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using JiraSimulator;
using Microsoft.AspNetCore.Mvc.Testing;

internal static class JqlStampBench
{
    public static async Task Main(string[] args)
    {
        var issues = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var latencies = (args.Length > 1 ? args[1] : "0,100").Split(',').Select(l => int.Parse(l, CultureInfo.InvariantCulture)).ToArray();
        await using var host = await BenchHost.StartAsync();
        var rows = new List<string>();
        var ratios = new List<string>();
        foreach (var latency in latencies)
        {
            var (site, tenantId) = await host.InstallSiteAsync();
            var admin = host.Client(site, "557058:bench-admin", SiteRole.Admin);
            var agent = host.Client(site, "557058:bench-agent", SiteRole.Agent);
            (await admin.PostAsJsonAsync("api/admin/fields", new { entity = "customer", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver", "Bronze" }, jqlSearchable = true })).EnsureSuccessStatusCode();
            await WaitAsync(() => site.Issues.DynamicModules.ContainsKey("connectapp-jql-aliases"), "the JQL aliases");
            const string reporter = "557058:bench-reporter";
            for (var i = 0; i < issues; i++)
            {
                site.Issues.Add(reporter);
            }

            // Warm-up (not timed): the customer's first stamp.
            var created = await Json(await agent.PostAsJsonAsync("api/customers", new { accountId = reporter, name = "Bench Reporter", values = new { tier = "Gold" } }));
            await WaitAsync(() => site.Issues.Search("customer.tier = Gold").Count == issues, "the first stamp");
            site.Issues.CallLatency = TimeSpan.FromMilliseconds(latency);

            // The app: bulk.
            var before = Counters(site);
            var watch = Stopwatch.StartNew();
            using (var patch = new HttpRequestMessage(HttpMethod.Patch, $"api/customers/{created["id"]}/values") { Content = JsonContent.Create(new { values = new { tier = "Silver" } }) })
            {
                patch.Headers.TryAddWithoutValidation("If-Match", $"W/\"{created["version"]}\"");
                (await agent.SendAsync(patch)).EnsureSuccessStatusCode();
            }

            await WaitAsync(() => site.Issues.Search("customer.tier = Silver").Count == issues, "the bulk stamp");
            var bulkTime = watch.Elapsed;
            await WaitAsync(async () => (long)(await host.ScalarAsync(tenantId, "SELECT count(*) FROM outbox_messages WHERE applied_at IS NULL"))! == 0, "the stamp message to be done");
            var bulkDone = watch.Elapsed; // the last task polled COMPLETE, the stamp recorded
            var bulk = Counters(site) - before;

            // Before: a PUT per issue, replayed with the app's settings.
            before = Counters(site);
            watch.Restart();
            var property = new JsonObject { ["customer"] = new JsonObject { ["tier"] = "Bronze" }, ["organization"] = new JsonObject() };
            using var jira = host.Simulator.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = site.BaseUrl, AllowAutoRedirect = false });
            using var gate = new SemaphoreSlim(4); // TenantConcurrencyHandler.MaxPerSite
            var writes = new List<Task>();
            string? next = null;
            do
            {
                var page = await Json(await SendAsync(jira, site, HttpMethod.Post, "/rest/api/3/search/jql", new JsonObject { ["jql"] = $"reporter = \"{reporter}\"", ["nextPageToken"] = next, ["maxResults"] = 100 }));
                foreach (var issue in page["issues"]!.AsArray())
                {
                    await gate.WaitAsync();
                    writes.Add(Task.Run(async () =>
                    {
                        try
                        {
                            using var response = await SendAsync(jira, site, HttpMethod.Put, $"/rest/api/3/issue/{issue!["id"]}/properties/connectapp.values", property);
                            response.EnsureSuccessStatusCode();
                        }
                        finally
                        {
                            gate.Release();
                        }
                    }));
                }

                next = page["isLast"]?.GetValue<bool>() == true ? null : page["nextPageToken"]?.ToString();
            }
            while (next is not null);
            await Task.WhenAll(writes);
            var putTime = watch.Elapsed;
            var put = Counters(site) - before;
            if (site.Issues.Search("customer.tier = Bronze").Count != issues)
            {
                throw new InvalidOperationException("the PUT replay did not write every issue");
            }

            rows.Add(Row("bulk (the app)", latency, bulkTime, bulkDone, bulk));
            rows.Add(Row("PUT per issue (the fan-out before, replayed, 4 in flight)", latency, putTime, putTime, put));
            ratios.Add(string.Create(CultureInfo.InvariantCulture, $"- {latency} ms per call: bulk made {bulk.Total} calls against {put.Total} ({(double)bulk.Total / put.Total:P1}), in {bulkTime.TotalSeconds:F2} s against {putTime.TotalSeconds:F2} s (wall-time ratio bulk/PUT {bulkTime / putTime:F2})."));
            Console.WriteLine(rows[^2]);
            Console.WriteLine(rows[^1]);
        }

        var memory = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var markdown = new StringBuilder()
            .AppendLine("# JQL property fan-out: Jira's bulk property API against a PUT per issue")
            .AppendLine()
            .AppendLine(string.Create(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores, {long.Parse(memory, CultureInfo.InvariantCulture) / 1024.0 / 1024.0:F1} GiB memory ({Environment.OSVersion}), .NET {Environment.Version}, PostgreSQL and RabbitMQ on 127.0.0.1."))
            .AppendLine(string.Create(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/JqlStamp -- {issues} {string.Join(',', latencies)}`"))
            .AppendLine()
            .AppendLine(string.Create(CultureInfo.InvariantCulture, $"One customer who reported {issues:N0} issues; a searchable select field. The app and the Jira simulator in one process (BenchHost); \"ms per call\" is a delay the simulator adds to every issue REST call (a network round trip to Jira). The simulator's bulk tasks take 2 × 40 ms (ENQUEUED, RUNNING) before COMPLETE; the app polls a task after 250 ms, then 500 ms, 1 s, ... The bulk row is the app end to end (PATCH of the value → outbox → RabbitMQ → worker → every issue found by the simulator's JQL); \"done\" is when the message was applied (the last task polled COMPLETE and the stamp recorded); the PUT row is this program replaying the old fan-out's calls with the app's per-site cap, without the message path, so it flatters the PUTs slightly."))
            .AppendLine()
            .AppendLine("| fan-out | ms per call | every issue found by JQL | done (stamp recorded) | searches | PUTs | bulk calls | task polls | calls in all | issues written |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        rows.ForEach(r => markdown.AppendLine(r));
        markdown.AppendLine().AppendLine("Side by side:").AppendLine();
        ratios.ForEach(r => markdown.AppendLine(r));
        var output = Path.Combine(BenchHost.FindRoot(), "bench", "jql-stamp.md");
        await File.WriteAllTextAsync(output, markdown.ToString());
        Console.WriteLine("Wrote " + output);
    }

    private static string Row(string name, int latency, TimeSpan time, TimeSpan done, Calls calls) => string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {latency} | {time.TotalSeconds:F2} s | {done.TotalSeconds:F2} s | {calls.Searches} | {calls.Puts} | {calls.Bulk} | {calls.Polls} | {calls.Total} | {calls.Writes} |");

    private static Calls Counters(SimulatedSite site) => new(site.Issues.SearchCalls, site.Issues.PropertyPuts, site.Issues.BulkPropertyCalls, site.Issues.TaskPolls, site.Issues.PropertyWrites);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, SimulatedSite site, HttpMethod method, string path, JsonNode body)
    {
        var claims = AtlassianConnect.ConnectJwt.RequestClaims(site.AppKey!, AtlassianConnect.QueryStringHash.Compute(method.Method, path), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(3), null);
        var request = new HttpRequestMessage(method, path.TrimStart('/')) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Authorization", "JWT " + AtlassianConnect.ConnectJwt.CreateSymmetric(claims, site.SharedSecret!));
        return await client.SendAsync(request);
    }

    private static async Task<JsonObject> Json(HttpResponseMessage response)
    {
        using (response)
        {
            if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.Created)
            {
                throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }

            return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        }
    }

    private static Task WaitAsync(Func<bool> condition, string what) => WaitAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > TimeSpan.FromMinutes(10))
            {
                throw new TimeoutException("waiting for " + what);
            }

            await Task.Delay(10);
        }
    }
}

internal sealed record Calls(int Searches, int Puts, int Bulk, int Polls, int Writes)
{
    public int Total => Searches + Puts + Bulk + Polls;

    public static Calls operator -(Calls a, Calls b) => new(a.Searches - b.Searches, a.Puts - b.Puts, a.Bulk - b.Bulk, a.Polls - b.Polls, a.Writes - b.Writes);
}
