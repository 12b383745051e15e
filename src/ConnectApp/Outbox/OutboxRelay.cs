using System.Text;
using ConnectApp.Messaging;
using Microsoft.Extensions.Options;
using Npgsql;
using RabbitMQ.Client;

namespace ConnectApp.Outbox;

internal sealed class OutboxOptions
{
    /// <summary>How long sent rows are kept (for freshness and for forensics) before the relay deletes them.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>The longest the relay sleeps between looks when no notification arrives.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// A committed row is published after this long even while an older transaction is still open somewhere on the
    /// server (the database server is shared: another database's idle transaction must not stall the mirror).
    /// </summary>
    public TimeSpan MaxOrderingWait { get; set; } = TimeSpan.FromSeconds(2);

    public int BatchSize { get; set; } = 500;
}

/// <summary>
/// The worker role's outbox relay. One process at a time relays (a PostgreSQL advisory lock held on the relay's
/// connection; the others wait to take over). It publishes unsent rows to the topic exchange with publisher
/// confirms, in transaction order, and marks them sent only once the broker has confirmed them: after a crash or a
/// broker outage the unconfirmed rows are simply sent again (consumers are idempotent). It wakes on
/// <c>NOTIFY connectapp_outbox</c> (sent at commit by <see cref="OutboxInterceptor"/>) and polls briefly otherwise,
/// and deletes sent rows after <see cref="OutboxOptions.Retention"/>.
/// </summary>
internal sealed class OutboxRelay(NpgsqlDataSource dataSource, RabbitMqConnection rabbit, IOptions<OutboxOptions> options, ILogger<OutboxRelay> logger) : BackgroundService
{
    private const long LockKey = 0x636f6e6e_6f757462; // "connoutb"
    private static readonly TimeSpan CleanupInterval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RelayAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The broker or the database is away: nothing was marked sent that was not confirmed; start over.
                logger.LogWarning(e, "Outbox relay interrupted; retrying");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RelayAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        while (!await TryLeadAsync(connection, stoppingToken))
        {
            await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
        }

        try
        {
            await RelayAsLeaderAsync(connection, settings, stoppingToken);
        }
        finally
        {
            // The lock is the session's: hand it back before the connection returns to the pool, or this process
            // (or another) could never lead again after a broker outage.
            if (connection.State == System.Data.ConnectionState.Open)
            {
                await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all(); UNLISTEN *", connection);
                await unlock.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }
    }

    private async Task RelayAsLeaderAsync(NpgsqlConnection connection, OutboxOptions settings, CancellationToken stoppingToken)
    {

        await using (var listen = new NpgsqlCommand($"LISTEN {OutboxInterceptor.Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        var broker = await rabbit.GetAsync(stoppingToken);
        await using var channel = await broker.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), stoppingToken);
        await Topology.DeclareAsync(channel, stoppingToken);
        logger.LogInformation("Outbox relay running");

        var nextCleanup = DateTimeOffset.UtcNow;
        var unmarked = new Dictionary<long, long>();
        while (!stoppingToken.IsCancellationRequested)
        {
            var published = await PublishBatchAsync(connection, channel, settings, unmarked, stoppingToken);
            if (DateTimeOffset.UtcNow >= nextCleanup)
            {
                await CleanupAsync(connection, settings.Retention, stoppingToken);
                nextCleanup = DateTimeOffset.UtcNow + CleanupInterval;
            }

            if (published < settings.BatchSize)
            {
                await connection.WaitAsync(settings.PollInterval, stoppingToken);
            }
        }
    }

    private static async Task<bool> TryLeadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
        command.Parameters.AddWithValue("key", LockKey);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Types whose consumers do not depend on commit order, published as soon as they are committed instead of waiting
    /// for older transactions: the mirror re-reads the record's current state and its index refuses an older version
    /// (ADR 9), so a change that overtakes another can only write the current state; field.changed is a no-op.
    /// </summary>
    internal static readonly string[] Unordered = [RecordChanged.Type, FieldChanged.Type];

    private sealed record Row(long Id, Guid TenantId, string Type, byte[] Payload, DateTimeOffset CreatedAt);

    /// <summary>How long a published row that a consumer held locked (so it could not be marked sent) is not published again.</summary>
    internal static readonly TimeSpan UnmarkedHold = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Publishes the next unsent rows in order and marks them sent. <paramref name="unmarked"/>: rows published and
    /// confirmed that could not be marked sent because a consumer was marking them applied at that moment (it marks them
    /// sent too), not selected again for <see cref="UnmarkedHold"/> so that they are not published twice.
    /// </summary>
    private static async Task<int> PublishBatchAsync(NpgsqlConnection connection, IChannel channel, OutboxOptions settings, Dictionary<long, long> unmarked, CancellationToken cancellationToken)
    {
        var expired = Environment.TickCount64 - (long)UnmarkedHold.TotalMilliseconds;
        foreach (var id in unmarked.Where(u => u.Value < expired).Select(u => u.Key).ToList())
        {
            unmarked.Remove(id);
        }

        var rows = new List<Row>(settings.BatchSize);
        await using (var select = new NpgsqlCommand(
            """
            WITH horizon AS (
                -- The oldest transaction still running that may have written outbox rows: every in-progress transaction
                -- of the snapshot except those that pg_stat_activity shows running in another database of the shared
                -- server (their rows cannot be here). One that ended between the snapshot and this read counts as ours
                -- (held back a round, never overtaken). None running: the snapshot's xmax.
                SELECT coalesce(
                    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) x
                     WHERE (x::text::bigint % 4294967296) NOT IN (
                         SELECT a.backend_xid::text::bigint FROM pg_stat_activity a
                         WHERE a.datname IS DISTINCT FROM current_database() AND a.backend_xid IS NOT NULL)),
                    (pg_snapshot_xmax(pg_current_snapshot())::text)::bigint) AS xid)
            SELECT id, tenant_id, type, payload::text, created_at FROM outbox_messages
            WHERE sent_at IS NULL AND NOT (id = ANY(@unmarked))
              AND (type = ANY(@unordered) OR transaction_id < (SELECT xid FROM horizon) OR created_at < clock_timestamp() - @wait)
            ORDER BY transaction_id, id
            LIMIT @limit
            """, connection))
        {
            select.Parameters.AddWithValue("wait", settings.MaxOrderingWait);
            select.Parameters.AddWithValue("unordered", Unordered);
            select.Parameters.AddWithValue("limit", settings.BatchSize);
            select.Parameters.AddWithValue("unmarked", unmarked.Keys.ToArray());
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new Row(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), Encoding.UTF8.GetBytes(reader.GetString(3)), reader.GetFieldValue<DateTimeOffset>(4)));
            }
        }

        if (rows.Count == 0)
        {
            return 0;
        }

        // Published in order on one channel (the broker keeps a channel's order); confirms are awaited together.
        var confirms = new List<Task>(rows.Count);
        foreach (var row in rows)
        {
            var properties = new BasicProperties
            {
                Persistent = true,
                MessageId = row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Type = row.Type,
                ContentType = "application/json",
                Timestamp = new AmqpTimestamp(row.CreatedAt.ToUnixTimeSeconds()),
                Headers = new Dictionary<string, object?> { [Topology.TenantHeader] = row.TenantId.ToString() },
            };
            confirms.Add(channel.BasicPublishAsync(Topology.Exchange, row.Type, mandatory: true, properties, row.Payload, cancellationToken).AsTask());
        }

        await Task.WhenAll(confirms);

        // One timestamp for the batch (the statement's): the rows were published in order, together. Rows locked by a
        // consumer are skipped, never waited for: a consumer that got a message before this mark is marking it applied
        // (and sent) in a batch of its own, locking rows in another order, and waiting for each other deadlocked the two
        // (PostgreSQL's 1 s deadlock timeout, then the relay's restart and re-publishing its batch: up to 2 s of mirror
        // lag at 500 writes/s, bench/search-mirror.md). The relay never waits, so it can be in no deadlock.
        var marked = new HashSet<long>();
        await using (var mark = new NpgsqlCommand(
            """
            UPDATE outbox_messages SET sent_at = now()
            WHERE id IN (SELECT id FROM outbox_messages WHERE id = ANY(@ids) AND sent_at IS NULL FOR UPDATE SKIP LOCKED)
            RETURNING id
            """, connection))
        {
            mark.Parameters.AddWithValue("ids", rows.Select(r => r.Id).ToArray());
            await using var reader = await mark.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                marked.Add(reader.GetInt64(0));
            }
        }

        var now = Environment.TickCount64;
        foreach (var row in rows.Where(r => !marked.Contains(r.Id)))
        {
            unmarked[row.Id] = now;
        }

        return rows.Count;
    }

    private async Task CleanupAsync(NpgsqlConnection connection, TimeSpan retention, CancellationToken cancellationToken)
    {
        await using var delete = new NpgsqlCommand(
            """
            DELETE FROM outbox_messages WHERE id IN (
                SELECT id FROM outbox_messages
                WHERE sent_at < clock_timestamp() - @retention
                  -- a change that failed stays (search reports it, a reindex applies it) for 30 days
                  AND (dead_lettered_at IS NULL OR applied_at IS NOT NULL OR dead_lettered_at < clock_timestamp() - interval '30 days')
                LIMIT 10000)
            """, connection);
        delete.Parameters.AddWithValue("retention", retention);
        var deleted = await delete.ExecuteNonQueryAsync(cancellationToken);
        if (deleted > 0)
        {
            logger.LogInformation("Outbox: deleted {Count} sent message(s) older than {Retention}", deleted, retention);
        }
    }
}
