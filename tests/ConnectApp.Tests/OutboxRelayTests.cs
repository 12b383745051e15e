using ConnectApp.Tests.Infrastructure;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>
/// The relay's ordering horizon (ADR 9): a row never overtakes one of an older transaction of this database that has
/// not committed yet, while another database's open transaction on the same (shared) server does not hold it back.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class OutboxRelayTests(ConnectAppFixture app)
{
    [Fact]
    public async Task Relay_MirrorChanges_AreNotHeldBackByAnOlderOpenTransaction()
    {
        var site = await app.InstallSiteAsync();
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var writer = new NpgsqlConnection(app.DatabaseConnectionString);
        await writer.OpenAsync();
        await using var tx = await writer.BeginTransactionAsync();
        await InsertAsync(writer, tx, tenantId);

        // record.changed.v1 is order-insensitive (the mirror reads the current state, versions refuse older ones).
        await using var insert = new NpgsqlCommand(
            "INSERT INTO outbox_messages (tenant_id, type, payload, created_at) VALUES (@t, 'record.changed.v1', @p::jsonb, clock_timestamp()) RETURNING id", connection);
        insert.Parameters.AddWithValue("t", tenantId);
        insert.Parameters.AddWithValue("p", $$"""{"tenantId": "{{tenantId}}", "recordId": "{{Guid.NewGuid()}}"}""");
        var change = (long)(await insert.ExecuteScalarAsync())!;
        var (created, sent) = await WaitSentAsync(connection, change);
        Assert.True(sent - created < TimeSpan.FromSeconds(1.9), $"held back {(sent - created).TotalMilliseconds:F0} ms behind an open transaction");
        await tx.RollbackAsync();
    }

    [Fact]
    public async Task Relay_KeepsCommitOrderBehindThisDatabasesOpenTransaction_AndIsNotHeldBackByAnotherDatabases()
    {
        var site = await app.InstallSiteAsync();
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();

        // Another database on the server with a transaction that holds a transaction id, open for the whole check.
        await using var other = await TestDatabase.CreateAsync();
        await using (var foreign = new NpgsqlConnection(other.ConnectionString))
        {
            await foreign.OpenAsync();
            await using var foreignTx = await foreign.BeginTransactionAsync();
            await using (var xid = new NpgsqlCommand("SELECT pg_current_xact_id()", foreign, foreignTx))
            {
                await xid.ExecuteScalarAsync();
            }

            var alone = await InsertAsync(connection, null, tenantId);
            var (created, sent) = await WaitSentAsync(connection, alone);
            // The cluster-wide xmin would hold it until the 2 s fallback (OutboxOptions.MaxOrderingWait).
            Assert.True(sent - created < TimeSpan.FromSeconds(1.9), $"held back {(sent - created).TotalMilliseconds:F0} ms by another database's transaction");
            await foreignTx.RollbackAsync();
        }

        // An open transaction of this database writes a row first; a later transaction's row must not be sent before it.
        await using var writer = new NpgsqlConnection(app.DatabaseConnectionString);
        await writer.OpenAsync();
        await using var tx = await writer.BeginTransactionAsync();
        var first = await InsertAsync(writer, tx, tenantId);
        var second = await InsertAsync(connection, null, tenantId);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Null(await SentAtAsync(connection, second));
        await tx.CommitAsync();

        var (_, firstSent) = await WaitSentAsync(connection, first);
        var (_, secondSent) = await WaitSentAsync(connection, second);
        Assert.True(firstSent <= secondSent, $"the later transaction's row was sent first ({firstSent:O} > {secondSent:O})");
    }

    private static async Task<long> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, Guid tenantId)
    {
        // A type the relay keeps in commit order (not one of OutboxRelay.Unordered); the empty payload is refused by its
        // handler (dead-lettered), so only the relay's behaviour is observed.
        await using var insert = new NpgsqlCommand(
            "INSERT INTO outbox_messages (tenant_id, type, payload, created_at) VALUES (@t, 'reindex.requested.v1', '{}', clock_timestamp()) RETURNING id", connection, tx);
        insert.Parameters.AddWithValue("t", tenantId);
        return (long)(await insert.ExecuteScalarAsync())!;
    }

    private static async Task<DateTimeOffset?> SentAtAsync(NpgsqlConnection connection, long id)
    {
        await using var select = new NpgsqlCommand("SELECT sent_at FROM outbox_messages WHERE id = @id", connection);
        select.Parameters.AddWithValue("id", id);
        return await select.ExecuteScalarAsync() is DateTime at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
    }

    private static async Task<(DateTimeOffset Created, DateTimeOffset Sent)> WaitSentAsync(NpgsqlConnection connection, long id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            await using var select = new NpgsqlCommand("SELECT created_at, sent_at FROM outbox_messages WHERE id = @id", connection);
            select.Parameters.AddWithValue("id", id);
            await using (var reader = await select.ExecuteReaderAsync())
            {
                await reader.ReadAsync();
                if (!reader.IsDBNull(1))
                {
                    return (reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1));
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"outbox row {id} not sent within 30 s");
            await Task.Delay(50);
        }
    }
}
