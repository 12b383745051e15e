using System.Text.Json;
using Microsoft.Playwright;

namespace ConnectApp.BrowserTests.Infrastructure;

/// <summary>A host page open in its own browser context, with every network response it (and its iframe) received.</summary>
public sealed class HostedPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<IResponse> _responses = [];
    private readonly List<IRequest> _requests = [];

    private HostedPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        Page.Request += (_, r) =>
        {
            lock (_requests)
            {
                _requests.Add(r);
            }
        };
        Page.Response += (_, r) =>
        {
            lock (_responses)
            {
                _responses.Add(r);
            }
        };
    }

    public IPage Page { get; }

    /// <summary>The app's iframe.</summary>
    public IFrameLocator App => Page.FrameLocator("#app-frame");

    public static async Task<HostedPage> OpenAsync(BrowserFixture fixture, string url, string theme = "light")
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
            ColorScheme = theme == "dark" ? ColorScheme.Dark : ColorScheme.Light,
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout(20_000);
        var hosted = new HostedPage(context, await context.NewPageAsync());
        hosted.Page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning")
            {
                hosted.ConsoleMessages.Add($"{m.Type}: {m.Text}");
            }
        };
        await hosted.Page.GotoAsync(url);
        return hosted;
    }

    public List<string> ConsoleMessages { get; } = [];

    /// <summary>The bodies of every response so far (the host page, the iframe's page, assets, API calls).</summary>
    public async Task<List<(string Url, string Body)>> ResponseBodiesAsync()
    {
        List<IResponse> responses;
        lock (_responses)
        {
            responses = [.. _responses];
        }

        var bodies = new List<(string, string)>();
        foreach (var r in responses)
        {
            try
            {
                bodies.Add((r.Url, await r.TextAsync()));
            }
            catch (PlaywrightException)
            {
                // redirects and aborted requests have no body
            }
        }

        return bodies;
    }

    /// <summary>The app's API calls so far and the Authorization header each carried.</summary>
    public async Task<List<(string Url, string? Authorization)>> ApiCallsAsync()
    {
        List<IRequest> requests;
        lock (_requests)
        {
            requests = [.. _requests.Where(r => new Uri(r.Url).AbsolutePath.StartsWith("/api/", StringComparison.Ordinal))];
        }

        var calls = new List<(string, string?)>();
        foreach (var r in requests)
        {
            (await r.AllHeadersAsync()).TryGetValue("authorization", out var authorization);
            calls.Add((r.Url, authorization));
        }

        return calls;
    }

    /// <summary>The iframe's document as text and markup.</summary>
    public async Task<string> AppDomAsync() => await App.Locator("html").EvaluateAsync<string>("e => e.outerHTML + '\\n' + e.innerText");

    public async Task ScreenshotAsync(string name) =>
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ArtifactsDirectory, name + ".png"), FullPage = true });

    /// <summary>Runs axe-core (from frontend/node_modules) in the iframe; returns the serious and critical violations.</summary>
    public async Task<List<string>> AxeSeriousViolationsAsync()
    {
        var axe = await File.ReadAllTextAsync(Path.Combine(BrowserFixture.RepositoryRoot, "frontend", "node_modules", "axe-core", "axe.min.js"));
        var frame = Page.Frames.Single(f => f.Name == "app-frame" || f.Url.Contains("/app/", StringComparison.Ordinal));
        await frame.EvaluateAsync(axe);
        var json = await frame.EvaluateAsync<JsonElement>("""
            async () => {
              const r = await axe.run(document, { resultTypes: ['violations'] });
              return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' @ ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
            }
            """);
        return json.EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
