// CSV import benchmark: generates an N-row organizations CSV (default 100,000), uploads it to the real app (hosted
// in-process on Kestrel, worker included, fresh PostgreSQL database), polls progress until the job ends, exports
// the result, re-imports the export (the "nothing changed" path), and writes bench/csv-import.md.
// Usage: dotnet run -c Release --project bench/CsvImport -- [rows]
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

internal static class CsvImportBench
{
    public static async Task Main(string[] args)
    {
        var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var root = BenchHost.FindRoot();
        var results = new StringBuilder();

        // The app (role all: the worker consumes the imports from RabbitMQ) on a fresh database and a vhost of its own.
        await using var host = await BenchHost.StartAsync();
        var (site, _) = await host.InstallSiteAsync();
        var database = host.DatabaseUrl.Split('/')[^1];
        var adminClient = host.Client(site, "557058:bench-admin");
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
        var auditRows = (long)(await host.ScalarAsync((Guid)(await host.ScalarAsync(null, "SELECT id FROM tenants LIMIT 1"))!, "SELECT count(*) FROM audit_entries"))!;

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
    }
}
