// Shared by the bench projects (linked, not a library): the real app as the tests host it, on a fresh database and a
// RabbitMQ vhost of its own, migrated by the `migrate` role as a release would, with the Jira simulator in-process.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
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

internal sealed class BenchHost : IAsyncDisposable
{
    private readonly string _admin;
    private readonly string _database;
    private readonly string _vhost;
    private readonly HttpClient _management;

    private BenchHost(string admin, string database, string databaseUrl, string vhost, HttpClient management)
    {
        (_admin, _database, DatabaseUrl, _vhost, _management) = (admin, database, databaseUrl, vhost, management);
        ConnectionString = ToConnectionString(databaseUrl);
    }

    public string DatabaseUrl { get; }

    /// <summary>The app's own role on the bench database (subject to row-level security: use <see cref="ScalarAsync"/> with a tenant).</summary>
    public string ConnectionString { get; }

    public WebApplicationFactory<SimulatorProgram> Simulator { get; private set; } = null!;

    public BenchAppFactory App { get; private set; } = null!;

    public Uri Address { get; private set; } = null!;

    public static async Task<BenchHost> StartAsync()
    {
        var serverUrl = Environment.GetEnvironmentVariable("TEST_DATABASE_URL") ?? "postgres://app:app_pw@127.0.0.1:5432/appdb";
        var database = "connectapp_bench_" + Guid.NewGuid().ToString("N")[..10];
        var admin = ToConnectionString(serverUrl);
        await ExecAsync(admin, null, $"CREATE DATABASE \"{database}\"");
        var vhost = "connectapp-bench-" + Guid.NewGuid().ToString("N")[..8];
        var management = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:15672/") };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        (await management.PutAsync($"api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await management.PutAsync($"api/permissions/{vhost}/guest", new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var host = new BenchHost(admin, database, new UriBuilder(serverUrl) { Path = "/" + database }.Uri.ToString(), vhost, management);
        var secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        using var migrate = Process.Start(new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "ConnectApp.dll"), "migrate"])
        {
            Environment = { ["DATABASE_URL"] = host.DatabaseUrl, ["SECRETS_KEY"] = secretsKey },
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
        host.Simulator = new WebApplicationFactory<SimulatorProgram>();
        _ = host.Simulator.Server;
        host.App = new BenchAppFactory(host.DatabaseUrl, secretsKey, $"amqp://guest:guest@127.0.0.1:5672/{vhost}", host.Simulator);
        host.App.UseKestrel(0);
        host.App.StartServer();
        host.Address = new Uri(host.App.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/");
        return host;
    }

    /// <summary>A new simulated site that has installed the app; returns it and its tenant id.</summary>
    public async Task<(SimulatedSite Site, Guid TenantId)> InstallSiteAsync()
    {
        var name = "bench-" + Guid.NewGuid().ToString("N")[..6];
        var site = new SimulatedSite(name, new Uri($"https://{name}.atlassian.net"));
        Simulator.Services.GetRequiredService<SiteDirectory>().Add(site);
        using (var installed = await new ConnectAppInstaller(Simulator.Services.GetRequiredService<InstallKeyServer>()).InstallAsync(Client(), site))
        {
            installed.EnsureSuccessStatusCode();
        }

        var tenantId = (Guid)(await ScalarAsync(null, $"SELECT id FROM tenants WHERE client_key = '{site.ClientKey}'"))!;
        return (site, tenantId);
    }

    /// <summary>A client of the app; with a site and a user, signed with a context token of that user (who is given <paramref name="role"/>).</summary>
    public HttpClient Client(SimulatedSite? site = null, string? accountId = null, SiteRole role = SiteRole.Admin)
    {
        var client = App.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = Address, AllowAutoRedirect = false });
        client.Timeout = TimeSpan.FromMinutes(10);
        if (site is not null && accountId is not null)
        {
            site.AddUser(accountId, role);
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", SiteTokens.Context(site, accountId, lifetime: TimeSpan.FromHours(1)));
        }

        return client;
    }

    /// <summary>One statement as the app's role, acting for <paramref name="tenantId"/> (row-level security), or for none.</summary>
    public Task ExecAsync(Guid? tenantId, string sql) => ExecAsync(ConnectionString, tenantId, sql);

    public async Task<object?> ScalarAsync(Guid? tenantId, string sql)
    {
        await using var connection = await OpenAsync(ConnectionString, tenantId);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        await Simulator.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await ExecAsync(_admin, null, $"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
        using var _ = await _management.DeleteAsync($"api/vhosts/{_vhost}");
        _management.Dispose();
    }

    public static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ConnectApp.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
    }

    public static string ToConnectionString(string url)
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

    private static async Task ExecAsync(string connectionString, Guid? tenantId, string sql)
    {
        await using var connection = await OpenAsync(connectionString, tenantId);
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString, Guid? tenantId)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        if (tenantId is { } id)
        {
            await using var scope = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{id}', false)", connection);
            await scope.ExecuteNonQueryAsync();
        }

        return connection;
    }
}

/// <summary>The app as the tests host it: Production environment, the simulator as key server and Jira.</summary>
internal sealed class BenchAppFactory(string databaseUrl, string secretsKey, string rabbitMqUrl, WebApplicationFactory<SimulatorProgram> simulator) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("APP_KEY", "com.connectapp.bench");
        builder.UseSetting("APP_BASE_URL", "https://connectapp.bench");
        builder.UseSetting("DATABASE_URL", databaseUrl);
        builder.UseSetting("RABBITMQ_URL", rabbitMqUrl);
        builder.UseSetting("ELASTICSEARCH_URL", string.Empty); // PostgreSQL search, whatever the shell has set
        builder.UseSetting("SECRETS_KEY", secretsKey);
        builder.UseSetting("ALLOWED_HOST_SUFFIXES", ".atlassian.net");
        builder.UseSetting("CONNECT_INSTALL_KEYS_URL", "http://simulator/connect-install-keys");
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        builder.ConfigureTestServices(services =>
        {
            services.AddHttpClient(InstallKeyProvider.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => simulator.Server.CreateHandler());
            services.AddHttpClient("jira").ConfigurePrimaryHttpMessageHandler(() => simulator.Server.CreateHandler());
            services.AddHttpClient("jira-directory").ConfigurePrimaryHttpMessageHandler(() => simulator.Server.CreateHandler());
        });
    }
}
