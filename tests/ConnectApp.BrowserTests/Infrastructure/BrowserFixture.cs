using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace ConnectApp.BrowserTests.Infrastructure;

/// <summary>
/// The whole product on loopback for a real browser: the app (role all, real PostgreSQL and RabbitMQ) and the Jira
/// simulator each on their own Kestrel port, talking over real HTTP (signed install, permission checks, host pages),
/// and headless Chromium from Debian's package driven by Playwright. Every test makes its own simulated site.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private TestDatabase? _database;
    private TestBroker? _broker;
    private IPlaywright? _playwright;

    public static string RepositoryRoot { get; } = FindRoot();

    public static string ArtifactsDirectory { get; } = Path.Combine(RepositoryRoot, "TestResults", "screenshots");

    public Uri AppUrl { get; private set; } = null!;

    public Uri SimulatorUrl { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    internal SimulatorHost Simulator { get; private set; } = null!;

    internal AppHost App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(RepositoryRoot, "src", "ConnectApp", "wwwroot", "app", "issue-view.html")))
        {
            throw new InvalidOperationException("The frontend is not built: run scripts/test.sh (npm ci and vite build in frontend/).");
        }

        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: scripts/test.sh installs it (apt-get install -y chromium).");
        }

        Directory.CreateDirectory(ArtifactsDirectory);
        _database = await TestDatabase.CreateAsync();
        _broker = await TestBroker.CreateAsync(); // a vhost of its own: other apps on the shared broker must not take its messages
        var appPort = FreePort();
        var simulatorPort = FreePort();
        AppUrl = new Uri($"http://localhost:{appPort}/");
        SimulatorUrl = new Uri($"http://127.0.0.1:{simulatorPort}/");

        Simulator = new SimulatorHost(new Uri($"http://127.0.0.1:{appPort}/"));
        Simulator.UseKestrel(simulatorPort);
        Simulator.StartServer();

        RecordSecret(AppHost.SecretsKey);
        await _database.MigrateAsync(); // before start, as the release phase does: the worker's scheduler needs its tables
        App = new AppHost(_database.Url, _broker.Url, AppUrl, SimulatorUrl);
        App.UseKestrel(appPort);
        App.StartServer();

        Assertions.SetDefaultExpectTimeout(15_000); // CI has 2 shared cores: wait for the page, not for a fixed 5 s
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (App is not null)
        {
            await App.DisposeAsync();
        }

        if (Simulator is not null)
        {
            await Simulator.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }

    /// <summary>Installs the app on a new simulated site (over HTTP, as run.sh does) and returns it.</summary>
    public async Task<SimulatedSite> InstallSiteAsync()
    {
        var name = "b" + Guid.NewGuid().ToString("N")[..10];
        using var http = new HttpClient { BaseAddress = SimulatorUrl };
        using var response = await http.PostAsync($"admin/sites/{name}/install", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var site = Simulator.Services.GetRequiredService<SiteDirectory>().Find(name)!;
        RecordSecret(site.SharedSecret!);
        site.AddUser(JiraSimulator.Demo.DemoSeeder.AdminAccountId, SiteRole.Admin, "Demo Admin");
        site.AddUser(JiraSimulator.Demo.DemoSeeder.AgentAccountId, SiteRole.Agent, "Demo Agent");
        return site;
    }

    /// <summary>An API client acting as <paramref name="accountId"/> of <paramref name="site"/> (test setup and checks).</summary>
    public HttpClient Api(SimulatedSite site, string accountId = JiraSimulator.Demo.DemoSeeder.AgentAccountId)
    {
        var client = new HttpClient { BaseAddress = new Uri(AppUrl, "api/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", SiteTokens.Context(site, accountId));
        return client;
    }

    public static async Task<JsonObject> SendAsync(HttpClient client, HttpMethod method, string path, object? body = null, int? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (ifMatch is { } v)
        {
            request.Headers.TryAddWithoutValidation("If-Match", $"W/\"{v}\"");
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The local Jira host's page for <paramref name="surface"/>.</summary>
    public string HostPage(SimulatedSite site, string surface, string role, string theme = "light", string? extra = null) =>
        new Uri(SimulatorUrl, $"host/{site.Name}/{surface}?as={role}&theme={theme}{(extra is null ? string.Empty : "&" + extra)}").ToString();

    /// <summary>Adds a secret to the list scripts/check-log-hygiene.sh looks for in the logs.</summary>
    private static void RecordSecret(string secret)
    {
        var path = Path.Combine(RepositoryRoot, "TestResults", "secrets-used.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        using var writer = new StreamWriter(file);
        writer.WriteLine(secret);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ConnectApp.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("ConnectApp.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>The Jira simulator on its own port; it calls the app at <paramref name="appUrl"/>.</summary>
internal sealed class SimulatorHost(Uri appUrl) : WebApplicationFactory<SimulatorProgram>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder) => builder
        .UseSetting("APP_URL", appUrl.ToString())
        .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning)); // no request lines: a dev tool's chatter
}

/// <summary>The app as run.sh runs it (role all), configured for sites on the simulator's loopback address.</summary>
internal sealed class AppHost(string databaseUrl, string rabbitMqUrl, Uri appUrl, Uri simulatorUrl) : WebApplicationFactory<Program>
{
    public static readonly string SecretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("APP_KEY", "com.connectapp.browser");
        builder.UseSetting("APP_BASE_URL", appUrl.ToString().TrimEnd('/'));
        builder.UseSetting("DATABASE_URL", databaseUrl);
        builder.UseSetting("RABBITMQ_URL", rabbitMqUrl);
        builder.UseSetting("SECRETS_KEY", SecretsKey);
        builder.UseSetting("ALLOWED_HOST_SUFFIXES", ".atlassian.net,127.0.0.1");
        builder.UseSetting("CONNECT_INSTALL_KEYS_URL", new Uri(simulatorUrl, "connect-install-keys").ToString());
        builder.UseSetting("CONNECT_OAUTH_URL", simulatorUrl.ToString().TrimEnd('/'));
        builder.UseSetting("LOG_FILE", Path.Combine(BrowserFixture.RepositoryRoot, "TestResults", "app-log.jsonl")); // the log-hygiene check reads it too
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserSuite : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}
