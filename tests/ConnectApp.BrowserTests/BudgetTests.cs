using System.IO.Compression;
using System.Text.Json;
using ConnectApp.BrowserTests.Infrastructure;
using JiraSimulator;
using Microsoft.Playwright;

namespace ConnectApp.BrowserTests;

/// <summary>The issue view's first load: JavaScript within 150 KB gzipped, and its time to first render, written for bench/frontend.md.</summary>
[Collection(BrowserSuite.Name)]
public sealed class BudgetTests(BrowserFixture fixture)
{
    public const int JavaScriptBudgetBytes = 150 * 1024;

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    [Fact]
    public async Task IssueView_FirstLoad_StaysWithinTheJavaScriptBudget_AndRecordsItsFirstRender()
    {
        var site = await fixture.InstallSiteAsync();
        const string customer = "557058:budget-customer";
        site.AddUser(customer, SiteRole.Customer, "Budget Customer");
        var admin = fixture.Api(site, JiraSimulator.Demo.DemoSeeder.AdminAccountId);
        await BrowserFixture.SendAsync(admin, HttpMethod.Post, "admin/fields", new { entity = "customer", key = "tier", label = "Tier", type = "select", visibility = "customers-view", options = new[] { "Gold", "Silver" } });
        await BrowserFixture.SendAsync(fixture.Api(site), HttpMethod.Post, "customers", new { accountId = customer, name = "Budget Customer", values = new { tier = "Gold" } });

        await using var page = await HostedPage.OpenAsync(fixture, fixture.HostPage(site, "issue-view", "agent", extra: $"reporter={Uri.EscapeDataString(customer)}"));
        await Assertions.Expect(page.App.Locator("[data-field=tier] dd")).ToHaveTextAsync("Gold");
        var frame = page.Page.Frames.Single(f => f.Url.Contains("/app/issue-view.html", StringComparison.Ordinal));
        var timings = await frame.EvaluateAsync<JsonElement>("""
            () => ({
              firstRender: performance.getEntriesByName('connectapp:first-render')[0]?.startTime ?? -1,
              firstContentfulPaint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1,
              domContentLoaded: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? -1,
            })
            """);

        var scripts = (await page.ResponseBodiesAsync()).Where(b => b.Url.Contains("/app/assets/", StringComparison.Ordinal) && b.Url.EndsWith(".js", StringComparison.Ordinal)).ToList();
        var files = scripts.Select(s => new { file = s.Url[(s.Url.LastIndexOf('/') + 1)..], raw = System.Text.Encoding.UTF8.GetByteCount(s.Body), gzip = GzipSize(s.Body) }).OrderByDescending(f => f.gzip).ToList();
        var gzipTotal = files.Sum(f => f.gzip);
        var result = new
        {
            measuredAt = DateTimeOffset.UtcNow,
            javaScriptFiles = files.Count,
            javaScriptRawBytes = files.Sum(f => f.raw),
            javaScriptGzipBytes = gzipTotal,
            budgetGzipBytes = JavaScriptBudgetBytes,
            firstRenderMs = timings.GetProperty("firstRender").GetDouble(),
            firstContentfulPaintMs = timings.GetProperty("firstContentfulPaint").GetDouble(),
            domContentLoadedMs = timings.GetProperty("domContentLoaded").GetDouble(),
            files,
        };
        var dir = Path.Combine(BrowserFixture.RepositoryRoot, "TestResults", "bench");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "issue-view-first-load.json"), JsonSerializer.Serialize(result, Indented));

        Assert.True(files.Count > 0, "the issue view loaded no JavaScript from /app/assets");
        Assert.DoesNotContain(scripts, s => s.Body.Contains("Download the React DevTools", StringComparison.Ordinal)); // React's production build
        Assert.True(gzipTotal <= JavaScriptBudgetBytes, $"the issue view's first load is {gzipTotal} bytes of gzipped JavaScript, over {JavaScriptBudgetBytes}");
        Assert.True(result.firstRenderMs > 0, "the issue view marked its first render");
    }

    private static int GzipSize(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            gzip.Write(bytes);
        }

        return (int)buffer.Length;
    }
}
