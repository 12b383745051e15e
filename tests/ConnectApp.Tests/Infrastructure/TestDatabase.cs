using Npgsql;

namespace ConnectApp.Tests.Infrastructure;

/// <summary>A fresh PostgreSQL database for one test run, on the server the services script started; dropped at the end.</summary>
internal sealed class TestDatabase : IAsyncDisposable
{
    private readonly string _adminConnectionString;

    private TestDatabase(string adminConnectionString, string name, string url)
    {
        _adminConnectionString = adminConnectionString;
        Name = name;
        Url = url;
    }

    public string Name { get; }

    /// <summary>The DATABASE_URL of the new database.</summary>
    public string Url { get; }

    public string ConnectionString => Persistence.DatabaseUrl.ToConnectionString(Url)!;

    public static async Task<TestDatabase> CreateAsync()
    {
        // The same server and credentials as a local run (scripts/services.sh); TEST_DATABASE_URL overrides.
        var serverUrl = Environment.GetEnvironmentVariable("TEST_DATABASE_URL") ?? Persistence.DatabaseOptions.LocalDefault;
        var admin = Persistence.DatabaseUrl.ToConnectionString(serverUrl)!;
        var name = "connectapp_test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }

        var builder = new UriBuilder(serverUrl) { Path = "/" + name };
        return new TestDatabase(admin, name, builder.Uri.ToString());
    }

    /// <summary>What the migrate role does, before the app starts (as on Heroku: release phase first), so the worker's scheduler finds its tables.</summary>
    public Task MigrateAsync() => MigrateAsync(ConnectionString);

    public static async Task MigrateAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var options = new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Persistence.AppDbContext>();
        Persistence.PersistenceFeature.Configure(options, dataSource);
        await using var db = new Persistence.AppDbContext(options.Options, new Persistence.TenantScope());
        await Persistence.PersistenceFeature.MigrateAsync(db, CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await command.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 10)
            {
                // FORCE may not terminate a backend our role does not own (an autovacuum worker busy in the fresh
                // database, owned by the superuser); it finishes shortly, so try again.
                await Task.Delay(500);
            }
        }
    }
}
