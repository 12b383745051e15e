using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Records;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Memberships;

/// <summary>
/// The one path of a membership change made in the app (an agent, a bulk edit, an email-domain rule): the membership
/// through <see cref="RecordWriter"/> (audited, mirrored), a <see cref="MembershipChange"/> that tracks its write-back,
/// and one <c>membership.writeback.v1</c> per organization, all in the caller's unit of work (one transaction). The
/// caller saves. A change of a membership whose earlier change has not reached JSM supersedes it: only the latest
/// is written back.
/// </summary>
internal sealed class MembershipEditor(AppDbContext db, RecordWriter writer, TimeProvider time)
{
    /// <summary>The change made, or null when the membership already was so (nothing is written).</summary>
    public async Task<MembershipChange?> ChangeAsync(Caller caller, Record customer, Record organization, MembershipOperation operation, EmailDomainRule? rule, CancellationToken cancellationToken)
    {
        var cause = rule is null ? null : new JsonObject { ["ruleId"] = rule.Id.ToString(), ["domain"] = rule.Domain };
        if (!await writer.ChangeMembershipAsync(caller, customer, organization.Id, operation == MembershipOperation.Add, cause, cancellationToken))
        {
            return null;
        }

        var now = time.GetUtcNow();
        var unresolved = await db.Set<MembershipChange>()
            .Where(c => c.CustomerId == customer.Id && c.OrganizationId == organization.Id && (c.State == WriteBackState.Pending || c.State == WriteBackState.Failed))
            .ToListAsync(cancellationToken);
        foreach (var earlier in unresolved.Concat(db.ChangeTracker.Entries<MembershipChange>()
            .Where(e => e.State == EntityState.Added && e.Entity.CustomerId == customer.Id && e.Entity.OrganizationId == organization.Id && e.Entity.State == WriteBackState.Pending)
            .Select(e => e.Entity)).Distinct())
        {
            earlier.State = WriteBackState.Superseded;
            earlier.UpdatedAt = now;
            earlier.CompletedAt = now;
        }

        var notInJsm = NotInJsmReason(customer, organization);
        var change = new MembershipChange
        {
            Id = Guid.NewGuid(),
            TenantId = caller.TenantId,
            CustomerId = customer.Id,
            OrganizationId = organization.Id,
            Operation = operation,
            State = notInJsm is null ? WriteBackState.Pending : WriteBackState.NotInJsm,
            Reason = notInJsm,
            RuleId = rule?.Id,
            Actor = caller.Actor,
            CreatedAt = now,
            UpdatedAt = now,
            CompletedAt = notInJsm is null ? null : now,
        };
        db.Set<MembershipChange>().Add(change);
        if (notInJsm is null)
        {
            RequestWriteBack(db, caller.TenantId, organization.Id);
        }

        return change;
    }

    /// <summary>Why a change of this membership cannot be written back to JSM, or null when it can.</summary>
    public static string? NotInJsmReason(Record customer, Record organization) =>
        customer.SyncedAt is null ? "The customer was made in the app and has never been seen in JSM; there is nothing to write back to."
        : organization.SyncedAt is null ? "The organization was made in the app and has never been seen in JSM; there is nothing to write back to."
        : customer.RemovedAt is not null ? "The customer is gone from JSM."
        : organization.RemovedAt is not null ? "The organization is gone from JSM."
        : null;

    /// <summary>
    /// Records a membership the directory sync found removed in JSM itself (<see cref="WriteBackState.FromJsm"/>, actor
    /// <see cref="Actors.JiraSync"/>): nothing is written back, and the email-domain rules leave the customer out of
    /// that organization as they do after an agent's removal in the app. The caller saves.
    /// </summary>
    public static void RecordRemovedInJsm(DbContext db, Guid tenantId, Guid customerId, Guid organizationId, DateTimeOffset now) =>
        db.Set<MembershipChange>().Add(new MembershipChange
        {
            Id = Guid.NewGuid(),
            TenantId = tenantId,
            CustomerId = customerId,
            OrganizationId = organizationId,
            Operation = MembershipOperation.Remove,
            State = WriteBackState.FromJsm,
            Reason = "Removed in JSM (seen by the directory sync); nothing to write back. Email-domain rules leave this customer out of the organization.",
            Actor = Actors.JiraSync,
            CreatedAt = now,
            UpdatedAt = now,
            CompletedAt = now,
        });

    /// <summary>Adds a <c>membership.writeback.v1</c> for the organization to the unit of work, unless one is already in it.</summary>
    public static void RequestWriteBack(DbContext db, Guid tenantId, Guid organizationId)
    {
        var message = new MembershipWriteBackRequested(tenantId, organizationId);
        var payload = Contracts.Serialize(message);
        if (!db.ChangeTracker.Entries<OutboxMessage>().Any(e => e.State == EntityState.Added && e.Entity.Type == MembershipWriteBackRequested.Type && e.Entity.Payload == payload))
        {
            OutboxInterceptor.Add(db, message);
        }
    }
}

/// <summary>
/// What the directory sync must not undo: per customer, the latest app-made membership change of each organization that
/// JSM may not reflect in what the sync read — pending or failed write-backs, and ones written back after the sync began
/// reading (JSM's answer it holds predates them).
/// </summary>
internal static class WriteBackIntents
{
    public static async Task<Dictionary<Guid, Dictionary<Guid, MembershipOperation>>> LoadAsync(AppDbContext db, DateTimeOffset readFrom, CancellationToken cancellationToken)
    {
        var changes = await db.Set<MembershipChange>().AsNoTracking()
            .Where(c => c.State == WriteBackState.Pending || c.State == WriteBackState.Failed || (c.State == WriteBackState.Done && c.CompletedAt >= readFrom))
            .OrderBy(c => c.CreatedAt)
            .Select(c => new { c.CustomerId, c.OrganizationId, c.Operation })
            .ToListAsync(cancellationToken);
        var intents = new Dictionary<Guid, Dictionary<Guid, MembershipOperation>>();
        foreach (var c in changes)
        {
            (intents.TryGetValue(c.CustomerId, out var of) ? of : intents[c.CustomerId] = [])[c.OrganizationId] = c.Operation; // the latest wins
        }

        return intents;
    }

    /// <summary>The organizations JSM lists for a customer, with the app's unresolved changes laid over them.</summary>
    public static List<Guid> Apply(IEnumerable<Guid> fromJsm, Dictionary<Guid, MembershipOperation>? intents)
    {
        var wanted = fromJsm.ToHashSet();
        foreach (var (organizationId, operation) in intents ?? [])
        {
            if (operation == MembershipOperation.Add)
            {
                wanted.Add(organizationId);
            }
            else
            {
                wanted.Remove(organizationId);
            }
        }

        return [.. wanted];
    }
}
