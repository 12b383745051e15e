// Data export benchmark: GET /api/admin/export of a 100,000-record tenant against a 10,000-record one in the same run
// (defaults; the argument scales the large one), through the real app on Kestrel. Records, memberships and audit rows
// are loaded with SQL; the client streams the download to a file, so the process's memory is the server's side of the
// export. Memory is sampled every 10 ms during each export. Writes bench/data-export.md.
// Usage: dotnet run -c Release --project bench/DataExport -- [records]
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

internal static class DataExportBench
{
    public static async Task Main(string[] args)
    {
        var large = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var small = large / 10;
        await using var host = await BenchHost.StartAsync();
        var runs = new List<Run>();
        foreach (var records in new[] { small, large })
        {
            var (site, tenantId) = await host.InstallSiteAsync();
            using var admin = host.Client(site, "557058:bench-admin");
            var fields = new List<string>();
            foreach (var field in new object[]
            {
                new { entity = "customer", key = "plan", label = "Plan", type = "select", options = new[] { "Basic", "Pro", "Enterprise" } },
                new { entity = "customer", key = "seats", label = "Seats", type = "number", decimals = 0 },
                new { entity = "customer", key = "notes", label = "Notes", type = "paragraph" },
                new { entity = "organization", key = "region", label = "Region", type = "text" },
            })
            {
                using var created = await admin.PostAsJsonAsync("api/admin/fields", field);
                created.EnsureSuccessStatusCode();
                fields.Add((await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>());
            }

            var option = (string)(await host.ScalarAsync(tenantId, $"SELECT id::text FROM field_options WHERE field_id = '{fields[0]}' ORDER BY position LIMIT 1"))!;
            var loader = Stopwatch.StartNew();
            var organizations = Math.Max(1, records / 10);
            await host.ExecAsync(tenantId, $"""
                INSERT INTO records (id, tenant_id, entity, external_id, name, field_values, version, created_at, updated_at)
                SELECT gen_random_uuid(), '{tenantId}', 'Organization', 'org-' || g, 'Organization ' || g, jsonb_build_object('{fields[3]}', 'EMEA'), 1, now(), now()
                FROM generate_series(1, {organizations}) g
                """);
            await host.ExecAsync(tenantId, $"""
                INSERT INTO records (id, tenant_id, entity, external_id, name, email, field_values, version, created_at, updated_at)
                SELECT gen_random_uuid(), '{tenantId}', 'Customer', '557058:bench-' || g, 'Customer ' || g, 'customer' || g || '@example.com',
                       jsonb_build_object('{fields[0]}', '{option}', '{fields[1]}', g % 500, '{fields[2]}', 'A note of some length for customer ' || g || ', as agents write them.'),
                       1, now(), now()
                FROM generate_series(1, {records}) g
                """);
            await host.ExecAsync(tenantId, $"""
                INSERT INTO memberships (tenant_id, customer_id, organization_id)
                SELECT '{tenantId}', c.id, o.id
                FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM records WHERE entity = 'Customer') c
                JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM records WHERE entity = 'Organization') o ON o.n = 1 + (c.n % {organizations})
                """);
            await host.ExecAsync(tenantId, $"""
                INSERT INTO audit_entries (tenant_id, occurred_at, actor, action, subject, record_id, field_id, old_value, new_value)
                SELECT '{tenantId}', now(), '557058:bench-admin', 'value.set', 'customer', id, '{fields[1]}', NULL, to_jsonb(1)
                FROM records WHERE entity = 'Customer'
                """);
            await host.ExecAsync(null, "ANALYZE");
            Console.WriteLine($"loaded {records:N0} customers, {organizations:N0} organizations, memberships and audit rows in {loader.Elapsed.TotalSeconds:F1} s");

            var file = Path.Combine(Path.GetTempPath(), $"export-{tenantId}.json");
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var process = Process.GetCurrentProcess();
            process.Refresh();
            var baseHeap = GC.GetTotalMemory(false);
            var baseSet = process.WorkingSet64;
            long peakHeap = baseHeap, peakSet = baseSet;
            using var stop = new CancellationTokenSource();
            var sampler = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    process.Refresh();
                    peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                    peakSet = Math.Max(peakSet, process.WorkingSet64);
                    await Task.Delay(10);
                }
            });
            var watch = Stopwatch.StartNew();
            TimeSpan firstByte;
            await using (var output = File.Create(file))
            {
                using var response = await admin.GetAsync("api/admin/export", HttpCompletionOption.ResponseHeadersRead);
                response.EnsureSuccessStatusCode();
                firstByte = watch.Elapsed;
                await using var body = await response.Content.ReadAsStreamAsync();
                await body.CopyToAsync(output);
            }

            watch.Stop();
            await stop.CancelAsync();
            await sampler;
            var bytes = new FileInfo(file).Length;
            int exportedCustomers;
            await using (var read = File.OpenRead(file))
            {
                using var document = await JsonDocument.ParseAsync(read); // the bench's own check that the file is whole, not part of the measurement
                exportedCustomers = document.RootElement.GetProperty("customers").GetArrayLength();
            }

            File.Delete(file);
            if (exportedCustomers != records)
            {
                throw new InvalidOperationException($"exported {exportedCustomers} customers, loaded {records}");
            }

            var run = new Run(records, organizations, watch.Elapsed, firstByte, bytes, peakHeap - baseHeap, peakSet - baseSet);
            Console.WriteLine(run);
            runs.Add(run);
        }

        var (s, l) = (runs[0], runs[1]);
        var md = new StringBuilder();
        md.AppendLine("# Data export benchmark");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} cores ({Environment.OSVersion}), .NET {Environment.Version}, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1073741824} GiB, PostgreSQL on 127.0.0.1, Release build.");
        md.AppendLine("App (role `all`) and Jira simulator in one process (Kestrel on loopback), fresh database migrated by the `migrate` role.");
        md.AppendLine(CultureInfo.InvariantCulture, $"Command: `dotnet run -c Release --project bench/DataExport -- {large}`");
        md.AppendLine();
        md.AppendLine("Each tenant: customers with three values (select, number, a 60-character paragraph), organizations (one per ten customers, one value), one membership and one audit row per customer, four field definitions. The client streams `GET /api/admin/export` to a file, so the memory measured is the server's; it is sampled every 10 ms, above a baseline taken after a full GC just before the request.");
        md.AppendLine();
        md.AppendLine("| tenant | first byte | total | records/s | document | peak managed heap above baseline | peak working set above baseline |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var r in runs)
        {
            md.AppendLine(r.Row);
        }

        md.AppendLine(CultureInfo.InvariantCulture, $"| **ratio {l.Records / s.Records}× records** | | **{l.Total / s.Total:F1}×** | | **{(double)l.Bytes / s.Bytes:F1}×** | **{(double)l.PeakHeap / Math.Max(1, s.PeakHeap):F1}×** | **{(double)l.PeakWorkingSet / Math.Max(1, s.PeakWorkingSet):F1}×** |");
        md.AppendLine();
        md.AppendLine("Reading: time and document size grow with the tenant; memory does not — the export reads keyset pages of 1,000 rows inside one repeatable-read transaction and hands each page to the response before reading the next, so the server holds one page (plus the field definitions), whatever the tenant's size. The first byte (with the `counts` a client uses for progress) arrives before any record is read.");
        var path = Path.Combine(BenchHost.FindRoot(), "bench", "data-export.md");
        await File.WriteAllTextAsync(path, md.ToString());
        Console.WriteLine(md);
    }

    private sealed record Run(int Records, int Organizations, TimeSpan Total, TimeSpan FirstByte, long Bytes, long PeakHeap, long PeakWorkingSet)
    {
        public string Row => string.Create(CultureInfo.InvariantCulture,
            $"| {Records:N0} customers + {Organizations:N0} organizations | {FirstByte.TotalMilliseconds:F0} ms | {Total.TotalSeconds:F2} s | {(Records + Organizations) / Total.TotalSeconds:N0} | {Bytes / 1048576.0:F1} MiB | {PeakHeap / 1048576.0:F1} MiB | {PeakWorkingSet / 1048576.0:F1} MiB |");
    }
}
