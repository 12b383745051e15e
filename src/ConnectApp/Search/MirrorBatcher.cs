using System.Threading.Channels;
using ConnectApp.Persistence;

namespace ConnectApp.Search;

/// <summary>
/// Gathers the record changes that the mirror's concurrent deliveries are handling at the same moment and applies them
/// together: one read of the records, one upsert statement per tenant, instead of a round of queries per message. Each
/// delivery still gets its own result (and is acked, retried or dead-lettered on its own by the listener); a batch that
/// fails fails every delivery in it, which the listener retries. Nothing waits for a batch to fill: whatever is queued
/// when the previous batch ends is the next batch.
/// </summary>
internal sealed class MirrorBatcher(IServiceScopeFactory scopes, ILogger<MirrorBatcher> logger) : IAsyncDisposable
{
    public const int MaxBatch = 256;

    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private readonly Lock _start = new();

    private sealed record Request(Guid TenantId, Guid RecordId, TaskCompletionSource Done);

    /// <summary>Completes when the record's document matches PostgreSQL (or the document is gone with the record).</summary>
    public Task ApplyAsync(Guid tenantId, Guid recordId, CancellationToken cancellationToken)
    {
        lock (_start)
        {
            _loop ??= Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        }

        var request = new Request(tenantId, recordId, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
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
                    await ApplyTenantAsync(tenant.Key, requests.Select(r => r.RecordId).Distinct().ToList(), stoppingToken);
                    requests.ForEach(r => r.Done.TrySetResult());
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Mirror batch of {Count} change(s) for tenant {TenantId} failed", requests.Count, tenant.Key);
                    requests.ForEach(r => r.Done.TrySetException(e));
                }
            }
        }
    }

    private async Task ApplyTenantAsync(Guid tenantId, List<Guid> recordIds, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(tenantId);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var index = scope.ServiceProvider.GetRequiredService<ISearchIndex>();
        var documents = await SearchDocuments.LoadAsync(db, recordIds, cancellationToken);
        await index.UpsertAsync(tenantId, documents, cancellationToken);
        foreach (var gone in recordIds.Except(documents.Select(d => d.RecordId)))
        {
            await index.DeleteAsync(tenantId, gone, cancellationToken);
            logger.LogInformation("Record {RecordId} is gone (or removed from JSM); its document was removed", gone);
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
