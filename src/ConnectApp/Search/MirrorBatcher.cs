using System.Threading.Channels;
using ConnectApp.Messaging;
using ConnectApp.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Search;

/// <summary>
/// Gathers the record changes that the mirror's concurrent deliveries (up to the prefetch) are handling at the same
/// moment and applies them together, per tenant in one transaction: the documents built from PostgreSQL and upserted,
/// and the outbox rows marked applied (the PostgreSQL engine does both in one statement; another engine reads the
/// records, writes the index, then marks the rows in one UPDATE). Each delivery still gets its own result and is acked
/// after the commit, or retried and dead-lettered on its own by the listener: a batch that fails is applied again one
/// change at a time, so one bad change fails alone. Nothing waits for a batch to fill: whatever is queued when the
/// previous batch ends is the next batch.
/// </summary>
internal sealed class MirrorBatcher(IServiceScopeFactory scopes, ILogger<MirrorBatcher> logger) : IAsyncDisposable
{
    public const int MaxBatch = 256;

    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private readonly Lock _start = new();

    private sealed record Request(Guid TenantId, Guid RecordId, long? OutboxId, TaskCompletionSource Done);

    /// <summary>
    /// Completes when the record's document matches PostgreSQL (or the document is gone with the record) and the
    /// outbox row <paramref name="outboxId"/> (if any) is marked applied in the same transaction.
    /// </summary>
    public Task ApplyAsync(Guid tenantId, Guid recordId, long? outboxId, CancellationToken cancellationToken)
    {
        lock (_start)
        {
            _loop ??= Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        }

        var request = new Request(tenantId, recordId, outboxId, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(request))
        {
            throw new InvalidOperationException("The mirror batcher has stopped.");
        }

        return request.Done.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Request>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync(stoppingToken))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var request))
            {
                batch.Add(request);
            }

            foreach (var tenant in batch.GroupBy(r => r.TenantId))
            {
                var requests = tenant.ToList();
                try
                {
                    await ApplyTenantAsync(tenant.Key, requests, stoppingToken);
                    requests.ForEach(r => r.Done.TrySetResult());
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    if (requests.Count == 1)
                    {
                        requests[0].Done.TrySetException(e);
                        continue;
                    }

                    // Isolate the bad change: each alone, so only the one that fails again is retried (and dead-lettered).
                    logger.LogWarning(e, "Mirror batch of {Count} change(s) for tenant {TenantId} failed; applying them one at a time", requests.Count, tenant.Key);
                    foreach (var request in requests)
                    {
                        try
                        {
                            await ApplyTenantAsync(tenant.Key, [request], stoppingToken);
                            request.Done.TrySetResult();
                        }
                        catch (Exception single) when (single is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                        {
                            request.Done.TrySetException(single);
                        }
                    }
                }
            }
        }
    }

    private async Task ApplyTenantAsync(Guid tenantId, List<Request> requests, CancellationToken cancellationToken)
    {
        var recordIds = requests.Select(r => r.RecordId).Distinct().ToList();
        var outboxIds = requests.Where(r => r.OutboxId is not null).Select(r => r.OutboxId!.Value).ToList();
        await using var scope = scopes.CreateAsyncScope();
        var index = scope.ServiceProvider.GetRequiredService<ISearchIndex>();
        if (index is PostgresSearchIndex postgres)
        {
            await postgres.ApplyFromRecordsAsync(tenantId, recordIds, outboxIds, cancellationToken);
            return;
        }

        scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var documents = await SearchDocuments.LoadAsync(db, recordIds, cancellationToken);
        await index.UpsertAsync(tenantId, documents, cancellationToken);
        foreach (var gone in recordIds.Except(documents.Select(d => d.RecordId)))
        {
            await index.DeleteAsync(tenantId, gone, cancellationToken);
            logger.LogInformation("Record {RecordId} is gone (or removed from JSM); its document was removed", gone);
        }

        if (outboxIds.Count > 0)
        {
            await db.Database.ExecuteSqlRawAsync(
                "UPDATE outbox_messages SET " + MessageListener.MarkAppliedSet + " WHERE id = ANY({0}) AND tenant_id = {1} AND applied_at IS NULL",
                [outboxIds.ToArray(), tenantId],
                cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
        }

        _stopping.Dispose();
    }
}
