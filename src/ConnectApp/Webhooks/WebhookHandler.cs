using ConnectApp.Jql;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Retention;
using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Webhooks;

/// <summary>
/// <c>webhook.received.v1</c>: acts on a recorded delivery in the worker. <c>user_updated</c> → that customer's name and
/// email are read again from Jira; <c>user_deleted</c> → that account's personal data are erased (as a <c>closed</c>
/// account of the personal data report); <c>jira:issue_created</c> → the issue gets its reporter's JQL property. Each
/// is idempotent, and a delivery acted on once is marked, so a redelivered message does nothing again.
/// </summary>
internal sealed class WebhookHandler(AppDbContext db, TenantStore tenants, AccountReporter accounts, IssueStamper stamper, TimeProvider time, ILogger<WebhookHandler> logger) : IMessageHandler
{
    /// <summary>The actor of what a webhook changes.</summary>
    public const string Actor = "system:jira-webhook";

    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        if (!Commands.TryRead<WebhookReceived>(body, context, m => m.DeliveryId, out var message, out var refusal))
        {
            return refusal;
        }

        var delivery = await db.Set<WebhookDelivery>().SingleOrDefaultAsync(d => d.Id == message.DeliveryId, cancellationToken);
        if (delivery is null || delivery.ProcessedAt is not null)
        {
            return HandlerResult.Success; // done before (a redelivery), or expired
        }

        var row = await db.Set<Tenant>().AsNoTracking().SingleOrDefaultAsync(t => t.Id == message.TenantId, cancellationToken);
        if (row is null || row.UninstalledAt is not null || await tenants.FindAsync(row.ClientKey, refresh: false, cancellationToken) is not { } tenant)
        {
            return HandlerResult.Success; // uninstalled since: nothing to act for
        }

        try
        {
            switch (delivery.Event)
            {
                case WebhooksApi.UserUpdated when delivery.AccountId is { } accountId:
                    await accounts.RefreshAsync(tenant, [accountId], Actor, cancellationToken);
                    break;
                case WebhooksApi.UserDeleted when delivery.AccountId is { } accountId:
                    await accounts.EraseAsync(message.TenantId, accountId, Actor, cancellationToken);
                    break;
                case WebhooksApi.IssueCreated when delivery.IssueId is { } issueId && delivery.AccountId is { } reporter:
                    await stamper.StampIssueAsync(tenant, message.TenantId, issueId, reporter, cancellationToken);
                    break;
                default:
                    break;
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Webhook {Event} ({DeliveryId}) of tenant {TenantId} failed on attempt {Attempt}", delivery.Event, delivery.Id, message.TenantId, context.Attempt);
            return context.LastAttempt ? HandlerResult.Reject(e.GetType().Name + ": " + e.Message) : HandlerResult.Retry(e.GetType().Name + ": " + e.Message);
        }

        db.ChangeTracker.Clear(); // the erasure and refresh saved their own changes
        await db.Set<WebhookDelivery>().Where(d => d.Id == delivery.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.ProcessedAt, time.GetUtcNow()), cancellationToken);
        return HandlerResult.Success;
    }
}
