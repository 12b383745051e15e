using ConnectApp.Persistence;
using Npgsql;

namespace ConnectApp.Jobs;

/// <summary>Runs one kind of queued work, inside a DI scope that already acts for the job's tenant.</summary>
internal interface IJobHandler
{
    /// <summary>Does (or resumes) the work. Throwing means "try again later"; a permanent failure is recorded by the handler itself.</summary>
    Task RunAsync(Guid refId, CancellationToken cancellationToken);

    /// <summary>Called once the attempts are used up, to record the failure where the user can see it.</summary>
    Task GiveUpAsync(Guid refId, CancellationToken cancellationToken);
}

/// <summary>A job a worker has leased.</summary>
internal sealed record ClaimedJob(long Id, string Kind, Guid TenantId, Guid RefId, int Attempts);

/// <summary>
/// The durable queue in PostgreSQL: enqueue joins the caller's transaction (so work exists exactly when the row
/// describing it does); workers claim with <c>FOR UPDATE SKIP LOCKED</c> and a lease, so any instance can run a
/// job and a job whose worker died is picked up again when its lease runs out.
/// </summary>
internal sealed class JobQueue(NpgsqlDataSource dataSource, TimeProvider time, JobSignal signal)
{
    public const int MaxAttempts = 5;
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    /// <summary>Adds the entry to <paramref name="db"/>'s unit of work; it is saved with the caller's changes.</summary>
    public void Enqueue(AppDbContext db, string kind, Guid tenantId, Guid refId)
    {
        db.Set<JobQueueEntry>().Add(new JobQueueEntry { Kind = kind, TenantId = tenantId, RefId = refId, CreatedAt = time.GetUtcNow() });
    }

    /// <summary>Wakes this process's worker after a commit, so local work does not wait for the next poll.</summary>
    public void Notify() => signal.Notify();

    public async Task<ClaimedJob?> ClaimAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE job_queue SET locked_until = now() + @lease, attempts = attempts + 1
            WHERE id = (SELECT id FROM job_queue WHERE locked_until IS NULL OR locked_until < now()
                        ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, kind, tenant_id, ref_id, attempts
            """);
        command.Parameters.AddWithValue("lease", Lease);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ClaimedJob(reader.GetInt64(0), reader.GetString(1), reader.GetGuid(2), reader.GetGuid(3), reader.GetInt32(4))
            : null;
    }

    /// <summary>Extends the lease of a job that is still running.</summary>
    public Task ExtendAsync(long id, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE job_queue SET locked_until = now() + @lease WHERE id = @id", id, Lease, cancellationToken);

    public Task CompleteAsync(long id, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM job_queue WHERE id = @id", id, null, cancellationToken);

    /// <summary>After a failure: leave it leased for a back-off that grows with the attempts.</summary>
    public Task RetryLaterAsync(long id, int attempts, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE job_queue SET locked_until = now() + @lease WHERE id = @id", id, TimeSpan.FromSeconds(15 * attempts * attempts), cancellationToken);

    /// <summary>On shutdown: hand it back at once, without counting the interrupted attempt.</summary>
    public Task ReleaseAsync(long id, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE job_queue SET locked_until = NULL, attempts = greatest(attempts - 1, 0) WHERE id = @id", id, null, cancellationToken);

    private async Task ExecuteAsync(string sql, long id, TimeSpan? lease, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("id", id);
        if (lease is { } l)
        {
            command.Parameters.AddWithValue("lease", l);
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>In-process wake-up for the worker; other instances find the work by polling.</summary>
internal sealed class JobSignal : IDisposable
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Dispose() => _signal.Dispose();

    public void Notify()
    {
        try
        {
            _signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // already signalled; one wake-up is enough
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}
