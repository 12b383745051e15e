using ConnectApp.Persistence;

namespace ConnectApp.Jobs;

/// <summary>
/// The worker role's loop over <see cref="JobQueue"/>: claim one job, run its handler in a fresh scope acting
/// for the job's tenant (so row-level security applies to everything it touches), renew the lease while it runs,
/// then complete, retry with back-off, or give up after <see cref="JobQueue.MaxAttempts"/>. One job at a time per
/// process: the machines are small and a CSV import is database-bound.
/// </summary>
internal sealed class JobQueueWorker(IServiceScopeFactory scopes, JobQueue queue, JobSignal signal, ILogger<JobQueueWorker> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            ClaimedJob? job = null;
            try
            {
                job = await queue.ClaimAsync(stoppingToken);
                if (job is null)
                {
                    await signal.WaitAsync(PollInterval, stoppingToken);
                    continue;
                }

                await RunAsync(job, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                if (job is not null)
                {
                    await queue.ReleaseAsync(job.Id, CancellationToken.None);
                }

                return;
            }
            catch (Exception e)
            {
                // The database is unreachable, or the bookkeeping failed: wait a poll and try again.
                logger.LogError(e, "Job queue loop failed");
                try
                {
                    await Task.Delay(PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RunAsync(ClaimedJob job, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(job.TenantId);
        var handler = scope.ServiceProvider.GetKeyedService<IJobHandler>(job.Kind);
        if (handler is null)
        {
            logger.LogError("No handler for job kind {Kind}; job {JobId} dropped", job.Kind, job.Id);
            await queue.CompleteAsync(job.Id, stoppingToken);
            return;
        }

        using var running = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var heartbeat = HeartbeatAsync(job.Id, running.Token);
        try
        {
            await handler.RunAsync(job.RefId, running.Token);
            await queue.CompleteAsync(job.Id, stoppingToken);
            logger.LogInformation("Job {JobId} ({Kind}) for tenant {TenantId} done", job.Id, job.Kind, job.TenantId);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            if (job.Attempts >= JobQueue.MaxAttempts)
            {
                logger.LogError(e, "Job {JobId} ({Kind}) failed on attempt {Attempt}; giving up", job.Id, job.Kind, job.Attempts);
                await handler.GiveUpAsync(job.RefId, stoppingToken);
                await queue.CompleteAsync(job.Id, stoppingToken);
            }
            else
            {
                logger.LogWarning(e, "Job {JobId} ({Kind}) failed on attempt {Attempt}; will retry", job.Id, job.Kind, job.Attempts);
                await queue.RetryLaterAsync(job.Id, job.Attempts, stoppingToken);
            }
        }
        finally
        {
            await running.CancelAsync();
            await heartbeat;
        }
    }

    private async Task HeartbeatAsync(long id, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(JobQueue.Lease / 4, cancellationToken);
                await queue.ExtendAsync(id, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
            // the job ended
        }
        catch (Exception e)
        {
            // A missed renewal only risks a second worker resuming the job later, which handlers tolerate.
            logger.LogWarning(e, "Could not renew the lease of job {JobId}", id);
        }
    }
}
