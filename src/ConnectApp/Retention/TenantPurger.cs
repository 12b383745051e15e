using System.Diagnostics;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Search;
using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace ConnectApp.Retention;

/// <summary>
/// Deletes a tenant's data: every tenant-owned table (found from the schema, children first) in batches of
/// <see cref="RetentionOptions.BatchSize"/> rows, each batch its own short transaction that also adds its count to the
/// purge row (so the counts are exact and a crash loses nothing: a redelivery goes on where it stopped); then its
/// search documents, its Quartz trigger and its cached installation; finally (retention and inactivity) the tenant row,
/// with the purge marked done in the same transaction. Every batch first re-checks that the tenant is still due (a
/// reinstall stops the purge), under a share lock on the tenant row so a reinstall cannot slip in mid-batch.
/// Runs in the scope of the purged tenant, so row-level security is a second wall around the deletes.
/// </summary>
internal sealed class TenantPurger(
    AppDbContext db, ISearchIndex index, TenantStore store, IOptions<RetentionOptions> options, TimeProvider time, IServiceProvider services, ILogger<TenantPurger> logger)
{
    public async Task RunAsync(Guid purgeId, CancellationToken cancellationToken)
    {
        var purge = await db.Set<TenantPurge>().AsNoTracking().SingleOrDefaultAsync(p => p.Id == purgeId, cancellationToken);
        if (purge is null || purge.State is not (PurgeState.Requested or PurgeState.Running))
        {
            return; // done (a duplicate delivery), cancelled, or never confirmed
        }

        var stopwatch = Stopwatch.StartNew();
        await db.Database.OpenConnectionAsync(cancellationToken); // sets app.tenant_id to the purged tenant (the listener entered its scope)
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var tables = await TenantTables.DiscoverAsync(connection, null, cancellationToken);
        var batch = options.Value.BatchSize;
        foreach (var table in tables)
        {
            while (true)
            {
                var deleted = await DeleteBatchAsync(connection, purge, table, batch, cancellationToken);
                if (deleted is null)
                {
                    return; // cancelled (no longer due) or finished by another worker
                }

                if (deleted < batch)
                {
                    break;
                }
            }
        }

        await index.DeleteTenantAsync(purge.PurgedTenantId, cancellationToken);
        if (services.GetService<ISchedulerFactory>() is { } schedulers)
        {
            var scheduler = await schedulers.GetScheduler(cancellationToken);
            await scheduler.UnscheduleJob(RetentionSchedule.PurgeTriggerKey(purge.PurgedTenantId), cancellationToken);
        }

        var (clientKey, counts) = await FinishAsync(connection, purge, cancellationToken);
        if (clientKey is not null)
        {
            store.Forget(clientKey);
        }

        if (counts is not null)
        {
            logger.LogInformation("Purged tenant {ClientKeyHash} ({Reason}) in {Seconds:0.0} s; rows per table: {RowCounts}",
                purge.ClientKeyHash, purge.Reason, stopwatch.Elapsed.TotalSeconds, counts);
        }
    }

    /// <summary>Marks a purge that failed on every attempt, so operators see it (the message is dead-lettered and can be replayed).</summary>
    public async Task FailAsync(Guid purgeId, string error, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync(
            $"UPDATE tenant_purges SET note = {Truncate("failed: " + error)}, updated_at = {time.GetUtcNow()} WHERE id = {purgeId} AND state IN ('Requested', 'Running')",
            cancellationToken);
    }

    /// <summary>One batch in its own transaction; the rows deleted, or null when the purge must stop.</summary>
    private async Task<int?> DeleteBatchAsync(NpgsqlConnection connection, TenantPurge purge, string table, int batch, CancellationToken cancellationToken)
    {
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        if (!await LockAndCheckAsync(connection, tx, purge, forUpdate: false, cancellationToken))
        {
            await tx.CommitAsync(cancellationToken);
            return null;
        }

        var quoted = TenantTables.Quote(table);
        int deleted;
        await using (var delete = new NpgsqlCommand(
            $"DELETE FROM {quoted} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {quoted} WHERE tenant_id = @tenant LIMIT @batch))", connection, tx))
        {
            delete.Parameters.AddWithValue("tenant", purge.PurgedTenantId);
            delete.Parameters.AddWithValue("batch", batch);
            delete.CommandTimeout = 120;
            deleted = await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var count = new NpgsqlCommand(
            """
            UPDATE tenant_purges SET state = 'Running', started_at = coalesce(started_at, @now), updated_at = @now,
                row_counts = jsonb_set(row_counts, ARRAY[@table], to_jsonb(coalesce((row_counts ->> @table)::bigint, 0) + @deleted))
            WHERE id = @id
            """, connection, tx))
        {
            count.Parameters.AddWithValue("now", time.GetUtcNow());
            count.Parameters.AddWithValue("table", table);
            count.Parameters.AddWithValue("deleted", (long)deleted);
            count.Parameters.AddWithValue("id", purge.Id);
            await count.ExecuteNonQueryAsync(cancellationToken);
        }

        await tx.CommitAsync(cancellationToken);
        return deleted;
    }

    private async Task<(string? ClientKey, string? Counts)> FinishAsync(NpgsqlConnection connection, TenantPurge purge, CancellationToken cancellationToken)
    {
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        string? clientKey = null;
        await using (var read = new NpgsqlCommand("SELECT client_key FROM tenants WHERE id = @tenant", connection, tx))
        {
            read.Parameters.AddWithValue("tenant", purge.PurgedTenantId);
            clientKey = await read.ExecuteScalarAsync(cancellationToken) as string;
        }

        if (!await LockAndCheckAsync(connection, tx, purge, forUpdate: true, cancellationToken))
        {
            await tx.CommitAsync(cancellationToken);
            return (clientKey, null);
        }

        if (purge.Reason != PurgeReason.Request)
        {
            // Anything written since its table was emptied (a late mirror upsert) goes with the row, by the foreign keys' cascade.
            await using var delete = new NpgsqlCommand("DELETE FROM tenants WHERE id = @tenant", connection, tx);
            delete.Parameters.AddWithValue("tenant", purge.PurgedTenantId);
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        string? counts;
        await using (var done = new NpgsqlCommand(
            "UPDATE tenant_purges SET state = 'Done', started_at = coalesce(started_at, @now), finished_at = @now, updated_at = @now, note = NULL WHERE id = @id RETURNING row_counts::text",
            connection, tx))
        {
            done.Parameters.AddWithValue("now", time.GetUtcNow());
            done.Parameters.AddWithValue("id", purge.Id);
            counts = await done.ExecuteScalarAsync(cancellationToken) as string;
        }

        await tx.CommitAsync(cancellationToken);
        return (clientKey, counts);
    }

    /// <summary>
    /// Locks the purge row (serializing two deliveries of the same purge) and the tenant row, and checks the purge is
    /// still open and the tenant still due; cancels the purge (in <paramref name="tx"/>) when it is not.
    /// </summary>
    private async Task<bool> LockAndCheckAsync(NpgsqlConnection connection, NpgsqlTransaction tx, TenantPurge purge, bool forUpdate, CancellationToken cancellationToken)
    {
        await using (var state = new NpgsqlCommand("SELECT state FROM tenant_purges WHERE id = @id FOR UPDATE", connection, tx))
        {
            state.Parameters.AddWithValue("id", purge.Id);
            if (await state.ExecuteScalarAsync(cancellationToken) is not string s || s is not (nameof(PurgeState.Requested) or nameof(PurgeState.Running)))
            {
                return false;
            }
        }

        DateTimeOffset? due;
        var now = time.GetUtcNow();
        await using (var tenant = new NpgsqlCommand(
            $"SELECT uninstalled_at, updated_at, last_seen_at FROM tenants WHERE id = @tenant {(forUpdate ? "FOR UPDATE" : "FOR SHARE")}", connection, tx))
        {
            tenant.Parameters.AddWithValue("tenant", purge.PurgedTenantId);
            await using var reader = await tenant.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return true; // the tenant row is gone already: only leftovers to delete
            }

            due = PurgeRequests.DueAt(
                reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2), purge.Reason, options.Value, now);
        }

        if (due is { } d && d <= now)
        {
            return true;
        }

        await using (var cancel = new NpgsqlCommand("UPDATE tenant_purges SET state = 'Cancelled', finished_at = @now, updated_at = @now, note = @note WHERE id = @id", connection, tx))
        {
            cancel.Parameters.AddWithValue("now", now);
            cancel.Parameters.AddWithValue("note", purge.Reason == PurgeReason.Retention ? "reinstalled before the purge ran" : "used again before the purge ran");
            cancel.Parameters.AddWithValue("id", purge.Id);
            await cancel.ExecuteNonQueryAsync(cancellationToken);
        }

        logger.LogInformation("Purge {PurgeId} of tenant {ClientKeyHash} cancelled: the tenant is no longer due ({Reason})", purge.Id, purge.ClientKeyHash, purge.Reason);
        return false;
    }

    private static string Truncate(string text) => text.Length <= 200 ? text : text[..197] + "...";
}

/// <summary><c>purge.requested.v1</c>: runs (or resumes) a purge in the worker.</summary>
internal sealed class PurgeRequestedHandler(TenantPurger purger, ILogger<PurgeRequestedHandler> logger) : IMessageHandler
{
    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        if (!Commands.TryRead<PurgeRequested>(body, context, m => m.PurgeId, out var message, out var refusal))
        {
            return refusal;
        }

        try
        {
            await purger.RunAsync(message.PurgeId, cancellationToken);
            return HandlerResult.Success;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Purge {PurgeId} failed on attempt {Attempt}", message.PurgeId, context.Attempt);
            if (context.LastAttempt)
            {
                await purger.FailAsync(message.PurgeId, e.GetType().Name + ": " + e.Message, cancellationToken);
                return HandlerResult.Reject("The purge failed on every attempt: " + e.Message);
            }

            return HandlerResult.Retry(e.GetType().Name + ": " + e.Message);
        }
    }
}
