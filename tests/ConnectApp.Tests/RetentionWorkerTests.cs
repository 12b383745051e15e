using System.Security.Cryptography;
using ConnectApp.Tests.Infrastructure;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>
/// The purge across worker processes (the app's own executable in the <c>worker</c> role, SIGKILLed at will). A separate
/// process keeps the real clock, so these tests make the purge due in real time: the tenant was uninstalled 90 days
/// (less a few seconds) ago, so its trigger falls due while the test watches. Nothing else runs against this database.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class RetentionWorkerTests : IAsyncLifetime
{
    private readonly string _secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private TestDatabase _database = null!;
    private TestBroker _broker = null!;

    public async Task InitializeAsync()
    {
        _database = await TestDatabase.CreateAsync();
        _broker = await TestBroker.CreateAsync();
        await _database.MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task WorkerDownWhenThePurgeFallsDue_StartedLater_PurgesExactlyOnce()
    {
        // Uninstalled 90 days ago less 12 s; the lifecycle's outbox message is waiting, as after a real uninstall.
        var purged = await SeedTenantAsync(TimeSpan.FromDays(90) - TimeSpan.FromSeconds(12), customers: 3000);
        var kept = await SeedTenantAsync(null, customers: 2000);
        var keptCounts = await TenantTableCounts.CountAsync(_database.ConnectionString, kept);
        var keptChecksum = await TenantRows.ChecksumAsync(_database.ConnectionString, kept);

        // A worker stores the trigger (due in a few seconds), then goes down before it is due.
        await using (var first = Start())
        {
            await TenantTableCounts.WaitAsync(async () => await TriggerCountAsync(purged) == 1, TimeSpan.FromSeconds(60), "the trigger");
            first.Kill();
        }

        var due = await TenantTableCounts.ScalarAsync<DateTime>(_database.ConnectionString, "SELECT uninstalled_at + interval '90 days' FROM tenants WHERE id = @t", ("t", purged));
        while (DateTime.UtcNow < due.AddSeconds(3))
        {
            await Task.Delay(250);
        }

        Assert.Equal(3000, (await TenantTableCounts.CountAsync(_database.ConnectionString, purged))["records"]); // nobody was there to run it

        // Two workers come back (a cluster): the misfired trigger fires once, the purge runs once.
        await using var second = Start();
        await using var third = Start();
        await TenantTableCounts.WaitAsync(async () => await PurgesAsync(purged, "Done") == 1, TimeSpan.FromSeconds(90), "the purge");
        await Task.Delay(TimeSpan.FromSeconds(3)); // a second firing, if there were one, would show now
        Assert.Equal(1, await TenantTableCounts.ScalarAsync<long>(_database.ConnectionString, "SELECT count(*) FROM tenant_purges WHERE purged_tenant_id = @t", ("t", purged)));
        Assert.Equal(0, await TriggerCountAsync(purged));
        Assert.All(await TenantTableCounts.CountAsync(_database.ConnectionString, purged), c => Assert.True(c.Value == 0, $"{c.Key}: {c.Value}"));
        Assert.Equal(0, await TenantTableCounts.ScalarAsync<long>(_database.ConnectionString, "SELECT count(*) FROM tenants WHERE id = @t", ("t", purged)));
        Assert.Equal(keptCounts.Where(c => c.Key != "outbox_messages"), (await TenantTableCounts.CountAsync(_database.ConnectionString, kept)).Where(c => c.Key != "outbox_messages"));
        Assert.Equal(keptChecksum, await TenantRows.ChecksumAsync(_database.ConnectionString, kept));
    }

    [Fact]
    public async Task WorkerKilledMidPurge_CompletesOnRestart_NothingLeft_ExactCounts()
    {
        const int customers = 300_000;
        var purged = await SeedTenantAsync(TimeSpan.FromDays(91), customers);
        var kept = await SeedTenantAsync(null, customers: 5000);
        var keptChecksum = await TenantRows.ChecksumAsync(_database.ConnectionString, kept);

        await using (var first = Start())
        {
            // Killed once some batches are committed and many are left.
            await TenantTableCounts.WaitAsync(async () => await DeletedRecordsAsync(purged) >= 20_000, TimeSpan.FromSeconds(120), "the purge to be under way");
            first.Kill();
        }

        var left = (await TenantTableCounts.CountAsync(_database.ConnectionString, purged))["records"];
        Assert.InRange(left, 1, customers - 20_000);
        Assert.Equal(customers - left, await DeletedRecordsAsync(purged)); // the counts commit with their batch: exact after a crash
        Assert.Equal("Running", await TenantTableCounts.ScalarAsync<string>(_database.ConnectionString, "SELECT state FROM tenant_purges WHERE purged_tenant_id = @t", ("t", purged)));

        await using var second = Start();
        await TenantTableCounts.WaitAsync(async () => await PurgesAsync(purged, "Done") == 1, TimeSpan.FromSeconds(180), "the purge to complete after the restart");
        Assert.All(await TenantTableCounts.CountAsync(_database.ConnectionString, purged), c => Assert.True(c.Value == 0, $"{c.Key}: {c.Value}"));
        Assert.Equal(customers, await DeletedRecordsAsync(purged));
        Assert.Equal(1, await TenantTableCounts.ScalarAsync<long>(_database.ConnectionString, "SELECT count(*) FROM tenant_purges WHERE purged_tenant_id = @t", ("t", purged)));
        Assert.Equal(keptChecksum, await TenantRows.ChecksumAsync(_database.ConnectionString, kept));
    }

    private WorkerProcess Start() => WorkerProcess.Start(_database.Url, _broker.Url, _secretsKey);

    private Task<long> TriggerCountAsync(Guid tenant) =>
        TenantTableCounts.ScalarAsync<long>(_database.ConnectionString, "SELECT count(*) FROM qrtz_triggers WHERE trigger_name = @n", ("n", "purge-" + tenant.ToString("N")));

    private Task<long> PurgesAsync(Guid tenant, string state) =>
        TenantTableCounts.ScalarAsync<long>(_database.ConnectionString, "SELECT count(*) FROM tenant_purges WHERE purged_tenant_id = @t AND state = @s", ("t", tenant), ("s", state));

    private Task<long> DeletedRecordsAsync(Guid tenant) =>
        TenantTableCounts.ScalarAsync<long>(_database.ConnectionString, "SELECT coalesce(sum((row_counts ->> 'records')::bigint), 0)::bigint FROM tenant_purges WHERE purged_tenant_id = @t", ("t", tenant));

    /// <summary>
    /// A tenant with <paramref name="customers"/> customers, an audit entry each, and (when <paramref name="uninstalledAgo"/> is set) uninstalled
    /// that long ago with the <c>purge.schedule.v1</c> the uninstall callback writes in its transaction.
    /// </summary>
    private async Task<Guid> SeedTenantAsync(TimeSpan? uninstalledAgo, int customers)
    {
        var id = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await using (var tenant = new NpgsqlCommand(
            """
            INSERT INTO tenants (id, client_key, base_url, shared_secret_ciphertext, shared_secret_key_id, enabled, installed_at, updated_at, uninstalled_at)
            VALUES (@id, @key, @url, '\x00', 'k', true, @installed, @updated, @uninstalled)
            """, connection, tx))
        {
            tenant.Parameters.AddWithValue("id", id);
            tenant.Parameters.AddWithValue("key", "client-" + id.ToString("N"));
            tenant.Parameters.AddWithValue("url", $"https://w{id.ToString("N")[..8]}.atlassian.net");
            tenant.Parameters.AddWithValue("installed", now - TimeSpan.FromDays(400));
            tenant.Parameters.AddWithValue("updated", uninstalledAgo is { } u1 ? now - u1 : now);
            tenant.Parameters.AddWithValue("uninstalled", uninstalledAgo is { } u2 ? now - u2 : DBNull.Value);
            await tenant.ExecuteNonQueryAsync();
        }

        await using (var scope = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{id}', true)", connection, tx))
        {
            await scope.ExecuteNonQueryAsync();
        }

        await using (var rows = new NpgsqlCommand(
            """
            INSERT INTO records (id, tenant_id, entity, external_id, name, field_values, version, created_at, updated_at)
            SELECT gen_random_uuid(), @t, 'Customer', '557058:seed-' || g, 'Seed customer ' || g, '{}', 1, now(), now() FROM generate_series(1, @n) g;
            INSERT INTO audit_entries (tenant_id, record_id, subject, action, actor, occurred_at)
            SELECT tenant_id, id, 'customer', 'record.created', 'seed', now() FROM records WHERE tenant_id = @t LIMIT 1000;
            """, connection, tx))
        {
            rows.Parameters.AddWithValue("t", id);
            rows.Parameters.AddWithValue("n", customers);
            rows.CommandTimeout = 300;
            await rows.ExecuteNonQueryAsync();
        }

        if (uninstalledAgo is not null)
        {
            await using var message = new NpgsqlCommand("INSERT INTO outbox_messages (tenant_id, type, payload) VALUES (@t, 'purge.schedule.v1', @p::jsonb)", connection, tx);
            message.Parameters.AddWithValue("t", id);
            message.Parameters.AddWithValue("p", $"{{\"tenantId\":\"{id}\"}}");
            await message.ExecuteNonQueryAsync();
        }

        await tx.CommitAsync();
        return id;
    }
}
