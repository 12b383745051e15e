using System.Net;
using AtlassianConnect;
using ConnectApp.Api;
using ConnectApp.Jira;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Records;
using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace ConnectApp.Memberships;

/// <summary>
/// <c>membership.writeback.v1</c>: writes an organization's pending membership changes back to JSM — additions then
/// removals, <see cref="JsmClient.MaxMembersPerEdit"/> accountIds per call, through <see cref="JsmClient"/> (429 and
/// 5xx retried with Retry-After, per-site cap) — and records per change how it went. One handler per organization at a
/// time (a PostgreSQL advisory lock), so an add and a later remove of the same member reach JSM in order.
/// <list type="bullet">
/// <item>204: done.</item>
/// <item>400 for a batch (JSM does not say which accountId it refused): each id of it is sent alone, so the refusal lands on the record it belongs to.</item>
/// <item>404 (no such organization), 401/403 and other refusals: failed at once, with JSM's status and message.</item>
/// <item>No answer, or 429/5xx after the client's retries: the message is retried (1 s, 5 s, 30 s); after the last attempt the changes are failed.</item>
/// </list>
/// Only changes still pending are touched (a change superseded meanwhile keeps its state); a redelivery re-sends what
/// was not recorded, which JSM takes as a no-op.
/// <para>
/// A change an agent made is sent as that agent (act-as-user, <see cref="UserTokens"/>), so JSM's own audit shows the
/// agent and JSM applies the agent's permissions; changes of nobody in particular (email-domain rules, API tokens, rows
/// older than act-as-user) and every change of a site that sent no oauthClientId go as the app. A refused grant fails
/// the agent's changes with the reason (never sent as the app instead); a grant that gets no answer is transient.
/// </para>
/// </summary>
internal sealed class WriteBackHandler(AppDbContext db, JsmClient jsm, UserTokens userTokens, IConnectTenantStore tenants, NpgsqlDataSource dataSource, TimeProvider time, ILogger<WriteBackHandler> logger) : IMessageHandler
{
    /// <summary>The scopes an act-as-user token is asked for (membership edits need WRITE).</summary>
    public const string ActAsScopes = "READ WRITE";

    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        if (!Commands.TryRead<MembershipWriteBackRequested>(body, context, m => m.OrganizationId, out var message, out var refusal))
        {
            return refusal;
        }

        await using (await AdvisoryLock.TakeAsync(dataSource, $"connectapp.writeback:{message.TenantId:N}:{message.OrganizationId:N}", cancellationToken))
        {
            return await WriteBackAsync(message, context, cancellationToken);
        }
    }

    private sealed record Item(Guid ChangeId, MembershipOperation Operation, string AccountId, string? ActAs);

    /// <summary>Who a batch is sent as: the app (<see cref="AccountId"/> null) or an agent, through the site's OAuth client.</summary>
    private sealed record Sender(string? OauthClientId, string? AccountId);

    private async Task<HandlerResult> WriteBackAsync(MembershipWriteBackRequested message, MessageContext context, CancellationToken cancellationToken)
    {
        var organization = await db.Set<Record>().AsNoTracking().SingleOrDefaultAsync(r => r.Id == message.OrganizationId && r.Entity == Fields.RecordEntity.Organization, cancellationToken);
        if (organization is null)
        {
            return HandlerResult.Success; // deleted (purged): its changes went with it
        }

        var pending = await db.Set<MembershipChange>().AsNoTracking()
            .Where(c => c.OrganizationId == organization.Id && c.State == WriteBackState.Pending)
            .Join(db.Set<Record>(), c => c.CustomerId, r => r.Id, (c, r) => new { c.Id, c.Operation, c.Actor, r.ExternalId, r.SyncedAt, r.RemovedAt, c.CreatedAt })
            .OrderBy(c => c.CreatedAt)
            .ToListAsync(cancellationToken);
        if (pending.Count == 0)
        {
            return HandlerResult.Success;
        }

        if (organization.RemovedAt is not null)
        {
            await FinishAsync(pending.Select(p => p.Id), WriteBackState.NotInJsm, "The organization is gone from JSM.", cancellationToken);
            return HandlerResult.Success;
        }

        var site = await db.Set<Tenant>().Where(t => t.Id == message.TenantId).Select(t => new { t.ClientKey, t.OauthClientId }).SingleOrDefaultAsync(cancellationToken);
        var tenant = site is null ? null : await tenants.FindAsync(site.ClientKey, refresh: true, cancellationToken);
        if (tenant is not { State: ConnectTenantState.Enabled })
        {
            await FinishAsync(pending.Select(p => p.Id), WriteBackState.Failed, "The site is not installed and enabled; nothing was sent to JSM.", cancellationToken);
            return HandlerResult.Success;
        }

        string? transient = null;
        foreach (var operation in new[] { MembershipOperation.Add, MembershipOperation.Remove })
        {
            var items = pending.Where(p => p.Operation == operation).Select(p => new Item(p.Id, p.Operation, p.ExternalId, ActAs(p.Actor))).ToList();
            foreach (var group in items.GroupBy(i => site!.OauthClientId is null ? null : i.ActAs))
            {
                var sender = new Sender(group.Key is null ? null : site!.OauthClientId, group.Key);
                foreach (var batch in group.Chunk(JsmClient.MaxMembersPerEdit))
                {
                    transient ??= await SendAsync(tenant, sender, organization.ExternalId, operation, batch, context.LastAttempt, cancellationToken);
                    if (transient is not null)
                    {
                        break; // JSM is not answering: the rest wait for the message's next attempt
                    }
                }

                if (transient is not null)
                {
                    break;
                }
            }

            if (transient is not null)
            {
                break;
            }
        }

        if (transient is null)
        {
            return HandlerResult.Success;
        }

        logger.LogWarning("Membership write-back of organization {OrganizationId} (tenant {TenantId}) failed on attempt {Attempt}: {Reason}", organization.Id, message.TenantId, context.Attempt, transient);
        return context.LastAttempt ? HandlerResult.Success : HandlerResult.Retry(transient);
    }

    /// <summary>The agent a change is written back as, or null for the app (rules, API tokens, rows from before act-as-user).</summary>
    private static string? ActAs(string? actor) => actor is null or Actors.Unknown ? null : Actors.AccountIdOf(actor);

    /// <summary>One batch; null when every change of it was recorded (done or failed), else the transient reason (recorded on each, final on the last attempt).</summary>
    private async Task<string?> SendAsync(ConnectTenant tenant, Sender sender, string organizationJsmId, MembershipOperation operation, Item[] batch, bool lastAttempt, CancellationToken cancellationToken)
    {
        var verb = operation == MembershipOperation.Add ? "POST" : "DELETE";
        var accountIds = batch.Select(i => i.AccountId).ToList();
        JsmWriteResult result;
        string? token = null;
        var granting = sender.AccountId is not null;
        try
        {
            token = sender.AccountId is null ? null : await userTokens.GetAsync(tenant, sender.OauthClientId!, sender.AccountId, ActAsScopes, cancellationToken);
            granting = false;
            result = await jsm.ChangeMembersAsync(tenant, organizationJsmId, accountIds, operation == MembershipOperation.Add, cancellationToken, token);
            if (token is not null && result.Status == HttpStatusCode.Unauthorized)
            {
                // The site refused the agent's token (expired or revoked before we thought): once more with a new grant.
                userTokens.Forget(tenant, sender.OauthClientId!, sender.AccountId!, ActAsScopes, token);
                granting = true;
                token = await userTokens.GetAsync(tenant, sender.OauthClientId!, sender.AccountId!, ActAsScopes, cancellationToken);
                granting = false;
                result = await jsm.ChangeMembersAsync(tenant, organizationJsmId, accountIds, operation == MembershipOperation.Add, cancellationToken, token);
            }
        }
        catch (UserTokenRefusedException e)
        {
            logger.LogWarning("Act-as-user grant refused ({Status}) for {Count} membership change(s) of tenant {TenantId}; they are failed, not sent as the app", (int)e.Status, batch.Length, tenant.TenantId);
            // Never sent as the app instead: the change is the agent's, and JSM must judge it with the agent's permissions.
            await FinishAsync(batch.Select(i => i.ChangeId), WriteBackState.Failed,
                MembershipChange.Truncate($"Not sent to JSM: Atlassian refused to let the app act as the agent who made this change. {e.Message} Retry it once the agent can use the site again (and the app holds ACT_AS_USER), or have another agent make the change."),
                cancellationToken);
            return null;
        }
        catch (JiraCallException e)
        {
            var what = granting ? "act-as-user grant for the agent who made this change" : $"{verb} organization/{{id}}/user";
            return await TransientAsync(batch, $"No answer to the {what}: {e.Message}", lastAttempt, cancellationToken);
        }

        if (result.Succeeded)
        {
            await FinishAsync(batch.Select(i => i.ChangeId), WriteBackState.Done, null, cancellationToken);
            return null;
        }

        if (result.Transient)
        {
            return await TransientAsync(batch, Describe(verb, result), lastAttempt, cancellationToken);
        }

        if (result.Status == HttpStatusCode.BadRequest && batch.Length > 1)
        {
            // JSM refuses the whole batch for one bad accountId without naming it: narrow it down, one id per call.
            foreach (var item in batch)
            {
                if (await SendAsync(tenant, sender, organizationJsmId, operation, [item], lastAttempt, cancellationToken) is { } reason)
                {
                    return reason;
                }
            }

            return null;
        }

        await FinishAsync(batch.Select(i => i.ChangeId), WriteBackState.Failed, Describe(verb, result), cancellationToken);
        return null;
    }

    private static string Describe(string verb, JsmWriteResult result) =>
        MembershipChange.Truncate($"JSM answered {(int)result.Status} to {verb} organization/{{id}}/user" + (result.Error is { Length: > 0 } error ? ": " + error : result.Status == HttpStatusCode.NotFound ? ": the organization does not exist in JSM" : "."));

    private async Task<string> TransientAsync(Item[] batch, string reason, bool lastAttempt, CancellationToken cancellationToken)
    {
        var ids = batch.Select(i => i.ChangeId).ToList();
        var now = time.GetUtcNow();
        var text = MembershipChange.Truncate(lastAttempt ? reason + " (gave up after every attempt; retry it when JSM answers again)" : reason);
        await db.Set<MembershipChange>()
            .Where(c => ids.Contains(c.Id) && c.State == WriteBackState.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Attempts, c => c.Attempts + 1)
                .SetProperty(c => c.Reason, text)
                .SetProperty(c => c.UpdatedAt, now)
                .SetProperty(c => c.State, lastAttempt ? WriteBackState.Failed : WriteBackState.Pending)
                .SetProperty(c => c.CompletedAt, lastAttempt ? now : null), cancellationToken);
        return reason;
    }

    private async Task FinishAsync(IEnumerable<Guid> changeIds, WriteBackState state, string? reason, CancellationToken cancellationToken)
    {
        var ids = changeIds.ToList();
        var now = time.GetUtcNow();
        var counted = state is WriteBackState.Done or WriteBackState.Failed ? 1 : 0;
        await db.Set<MembershipChange>()
            .Where(c => ids.Contains(c.Id) && c.State == WriteBackState.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.State, state)
                .SetProperty(c => c.Attempts, c => c.Attempts + counted)
                .SetProperty(c => c.Reason, reason)
                .SetProperty(c => c.UpdatedAt, now)
                .SetProperty(c => c.CompletedAt, now), cancellationToken);
    }
}
