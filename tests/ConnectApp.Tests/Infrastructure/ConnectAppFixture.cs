using System.Net.Http.Headers;
using System.Security.Cryptography;
using AtlassianConnect.Lifecycle;
using JiraSimulator;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectApp.Tests.Infrastructure;

/// <summary>The Jira simulator, hosted in-process: key server and site REST API.</summary>
public sealed class SimulatorFactory : WebApplicationFactory<SimulatorProgram>;

/// <summary>
/// One app for the test collection: real PostgreSQL (a fresh database), real RabbitMQ, the real auth pipeline,
/// and the Jira simulator as key server. Every test makes its own simulated site, so tests never share a tenant.
/// </summary>
public sealed class ConnectAppFixture : IAsyncLifetime
{
    public ConnectAppFixture()
    {
    }

    /// <summary>An app that searches with Elasticsearch at <paramref name="elasticsearchUrl"/> (see ElasticsearchApp).</summary>
    internal ConnectAppFixture(string elasticsearchUrl) => ElasticsearchUrl = elasticsearchUrl;

    /// <summary>An app whose clock (TimeProvider, which Quartz follows too) is <paramref name="time"/>, with extra settings (see PurgeApp).</summary>
    internal ConnectAppFixture(TimeProvider time, IReadOnlyDictionary<string, string> settings)
    {
        Time = time;
        Settings = settings;
    }

    /// <summary>Set: replaces the app's TimeProvider (a FakeTimeProvider the test moves forward).</summary>
    public TimeProvider? Time { get; }

    /// <summary>Extra configuration (environment-style names) for this app.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>();

    /// <summary>Runs in ConfigureTestServices after the fixture's own replacements.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    public string DatabaseUrl => _database!.Url;

    /// <summary>Set: the app searches with Elasticsearch at this URL; null: with PostgreSQL.</summary>
    public string? ElasticsearchUrl { get; }

    public const string AppKey = "com.connectapp.test";
    public static readonly Uri AppBaseUrl = new("https://connectapp.test");

    private TestDatabase? _database;

    /// <summary>This run's own RabbitMQ vhost on the shared broker.</summary>
    public TestBroker Broker { get; private set; } = null!;

    public SimulatorFactory Simulator { get; } = new();

    public ConnectAppFactory App { get; private set; } = null!;

    public InstallKeyServer Keys => Simulator.Services.GetRequiredService<InstallKeyServer>();

    public ConnectAppInstaller Installer => new(Keys);

    /// <summary>Forge, as the simulator plays it: its JWKS, and invocation tokens for a site's installation.</summary>
    public ForgePlatform Forge => Simulator.Services.GetRequiredService<ForgePlatform>();

    public string DatabaseConnectionString => _database!.ConnectionString;

    public string SecretsKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        Broker = await TestBroker.CreateAsync();
        TestLog.RecordSecret(SecretsKey);
        await _database.MigrateAsync(); // before the app starts, as the release phase does: the worker's scheduler needs its tables
        App = new ConnectAppFactory(this, _database.Url);
        App.UseKestrel(0); // real HTTP on a loopback port: the raw request target (and so the qsh) is what a client sent
        App.StartServer();
        AppAddress = new Uri(App.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/");
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Simulator.DisposeAsync();
        await Broker.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    /// <summary>A client for the app (no credentials).</summary>
    public HttpClient Client() => App.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = AppAddress });

    /// <summary>Where the app's Kestrel listens (a loopback port chosen at start).</summary>
    public Uri AppAddress { get; private set; } = null!;

    /// <summary>A new simulated site on *.atlassian.net, not installed yet.</summary>
    public static SimulatedSite NewSite(string? name = null)
    {
        name ??= "site-" + Guid.NewGuid().ToString("N")[..10];
        return new SimulatedSite(name, new Uri($"https://{name}.atlassian.net"));
    }

    /// <summary>A new simulated site that has installed the app.</summary>
    public async Task<SimulatedSite> InstallSiteAsync(string? name = null)
    {
        var site = NewSite(name);
        await InstallAsync(site);
        return site;
    }

    /// <summary>A new simulated site that has installed the app <paramref name="client"/> talks to (a second app of a test's own).</summary>
    public async Task<SimulatedSite> InstallSiteThroughAsync(HttpClient client)
    {
        var site = NewSite();
        Simulator.Services.GetRequiredService<SiteDirectory>().Add(site);
        using var response = await Installer.InstallAsync(client, site);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        TestLog.RecordSecret(site.SharedSecret!);
        return site;
    }

    public async Task InstallAsync(SimulatedSite site)
    {
        Simulator.Services.GetRequiredService<SiteDirectory>().Add(site);
        using var response = await Installer.InstallAsync(Client(), site);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        TestLog.RecordSecret(site.SharedSecret!);
    }

    /// <summary>Inserts <paramref name="count"/> customers for <paramref name="site"/> straight into the database (test setup at scale).</summary>
    public async Task<Guid[]> SeedCustomersAsync(SimulatedSite site, int count)
    {
        var tenant = (await TenantRows.FindAsync(DatabaseConnectionString, site.ClientKey))!.Id;
        await using var connection = new Npgsql.NpgsqlConnection(DatabaseConnectionString);
        await connection.OpenAsync();
        await using (var scope = new Npgsql.NpgsqlCommand($"SELECT set_config('app.tenant_id', '{tenant}', false)", connection))
        {
            await scope.ExecuteNonQueryAsync();
        }

        await using var insert = new Npgsql.NpgsqlCommand(
            """
            INSERT INTO records (id, tenant_id, entity, external_id, name, field_values, version, created_at, updated_at)
            SELECT gen_random_uuid(), @t, 'Customer', '557058:seed-' || g, 'Seed customer ' || g, '{}', 1, now(), now() FROM generate_series(1, @n) g
            RETURNING id
            """, connection);
        insert.Parameters.AddWithValue("t", tenant);
        insert.Parameters.AddWithValue("n", count);
        var ids = new List<Guid>(count);
        await using var reader = await insert.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return [.. ids];
    }

    /// <summary>How many audit rows with <paramref name="action"/> the site's tenant has.</summary>
    public async Task<long> CountAuditAsync(SimulatedSite site, string action)
    {
        var tenant = (await TenantRows.FindAsync(DatabaseConnectionString, site.ClientKey))!.Id;
        await using var connection = new Npgsql.NpgsqlConnection(DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand($"SELECT set_config('app.tenant_id', '{tenant}', false); SELECT count(*) FROM audit_entries WHERE action = @a", connection);
        command.Parameters.AddWithValue("a", action);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        return reader.GetInt64(0);
    }

    /// <summary>A client acting as a user of <paramref name="site"/> who holds <paramref name="role"/> in Jira.</summary>
    public HttpClient As(SimulatedSite site, SiteRole role, string? accountId = null)
    {
        accountId ??= $"557058:{role.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}"[..40];
        site.AddUser(accountId, role);
        return AsContext(site, accountId);
    }

    /// <summary>A client whose requests carry a context token of <paramref name="site"/> for <paramref name="accountId"/>.</summary>
    public HttpClient AsContext(SimulatedSite site, string? accountId = "557058:agent-1")
    {
        var client = Client();
        var token = SiteTokens.Context(site, accountId);
        TestLog.RecordSecret(token);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", token);
        return client;
    }
}

/// <summary>The app on <paramref name="databaseUrl"/>, configured as the fixture's; <paramref name="settings"/> override (e.g. SECRETS_KEY, RABBITMQ_URL).</summary>
public sealed class ConnectAppFactory(ConnectAppFixture fixture, string databaseUrl, IReadOnlyDictionary<string, string>? settings = null) : WebApplicationFactory<Program>
{
    /// <summary>Low, so a test can exceed it with a burst; per tenant, and every test has its own tenant.</summary>
    public const int ApiTokenRateLimit = 20;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("APP_KEY", ConnectAppFixture.AppKey);
        builder.UseSetting("APP_BASE_URL", ConnectAppFixture.AppBaseUrl.ToString());
        builder.UseSetting("DATABASE_URL", databaseUrl);
        builder.UseSetting("RABBITMQ_URL", fixture.Broker.Url);
        builder.UseSetting("ELASTICSEARCH_URL", fixture.ElasticsearchUrl ?? string.Empty);
        builder.UseSetting("SECRETS_KEY", fixture.SecretsKey);
        builder.UseSetting("ALLOWED_HOST_SUFFIXES", ".atlassian.net");
        builder.UseSetting("CONNECT_INSTALL_KEYS_URL", "http://simulator/connect-install-keys");
        builder.UseSetting("CONNECT_OAUTH_URL", "http://simulator"); // the simulator's authorization server: act-as-user grants
        builder.UseSetting("LOG_FILE", TestLog.FilePath);
        builder.UseSetting("API_TOKEN_RATE_LIMIT", ApiTokenRateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("FORGE_APP_ID", ForgePlatform.DefaultAppId);
        builder.UseSetting("FORGE_JWKS_URL", "http://simulator/forge/.well-known/jwks.json");
        builder.UseSetting("SYNC_INTERVAL_MINUTES", "0"); // scheduled syncs would change tenants' rows under other tests; ScheduledSyncTests turns them on
        foreach (var (name, value) in fixture.Settings.Concat(settings ?? new Dictionary<string, string>()))
        {
            builder.UseSetting(name, value);
        }

        builder.ConfigureTestServices(services =>
        {
            // The key server and every simulated site's REST API are the in-process simulator.
            services.AddHttpClient(InstallKeyProvider.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => fixture.Simulator.Server.CreateHandler());
            services.AddHttpClient(ConnectApp.Jira.JiraClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => fixture.Simulator.Server.CreateHandler());
            services.AddHttpClient(ConnectApp.Jira.JsmClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => fixture.Simulator.Server.CreateHandler());
            services.AddHttpClient(ConnectApp.Jira.UserTokens.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => fixture.Simulator.Server.CreateHandler());
            services.AddHttpClient(AtlassianConnect.Forge.ForgeKeySet.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => fixture.Simulator.Server.CreateHandler());
            if (fixture.Time is { } time)
            {
                services.AddSingleton(time); // the last registration wins: the app, the Connect library and Quartz all read this clock
            }

            fixture.ConfigureServices?.Invoke(services);
        });
    }
}

[CollectionDefinition(Name)]
public sealed class AppCollection : ICollectionFixture<ConnectAppFixture>
{
    public const string Name = "app";
}
