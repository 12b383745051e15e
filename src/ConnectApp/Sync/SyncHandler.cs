using ConnectApp.Api;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Tenants;

namespace ConnectApp.Sync;

/// <summary><c>sync.requested.v1</c>: runs (or, redelivered after a crash, re-runs) a directory sync in the worker.</summary>
internal sealed class SyncHandler(DirectorySyncer syncer, ILogger<SyncHandler> logger) : IMessageHandler
{
    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        if (!Commands.TryRead<SyncRequested>(body, context, m => m.RunId, out var message, out var refusal))
        {
            return refusal;
        }

        try
        {
            await syncer.RunAsync(message.RunId, cancellationToken);
            return HandlerResult.Success;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var reason = $"{e.GetType().Name}: {e.Message}";
            await syncer.RecordErrorAsync(message.RunId, reason, final: context.LastAttempt, cancellationToken);
            if (!context.LastAttempt)
            {
                logger.LogWarning(e, "Directory sync {RunId} failed on attempt {Attempt}; it will be retried", message.RunId, context.Attempt);
                return HandlerResult.Retry(reason);
            }

            return HandlerResult.Reject("The directory sync failed on every attempt: " + reason);
        }
    }
}

/// <summary>
/// An install (and a reinstall) queues a full sync, in the install's own transaction, unless one is already queued or
/// running for the site (a repeated install callback does not start a second).
/// </summary>
internal sealed class SyncOnInstall(AppDbContext db, DirectorySyncer syncer) : ITenantLifecycleObserver
{
    public async Task ChangedAsync(Guid tenantId, string eventType, CancellationToken cancellationToken)
    {
        if (eventType != "installed" || await syncer.ActiveAsync(cancellationToken) is not null)
        {
            return;
        }

        syncer.Queue(tenantId, "install", Actors.JiraSync);
        await db.SaveChangesAsync(cancellationToken);
    }
}
