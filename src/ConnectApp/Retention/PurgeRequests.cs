using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ConnectApp.Retention;

/// <summary>
/// Starts purges: a purge row (state Requested) and its <c>purge.requested.v1</c> outbox message in one transaction.
/// Quartz's jobs and the deletion endpoint come here; the worker's consumer does the work. A tenant has at most one
/// open purge (a unique index), so the per-tenant trigger, the daily sweep and retries cannot start a second.
/// </summary>
internal sealed class PurgeRequests(AppDbContext db, IOptions<RetentionOptions> options, TimeProvider time, ILogger<PurgeRequests> logger)
{
    /// <summary>The tenant's open purge (the one queued now, or one already queued or running); null when the tenant is gone or not due.</summary>
    public async Task<TenantPurge?> RequestAsync(Guid tenantId, PurgeReason reason, CancellationToken cancellationToken)
    {
        var tenant = await db.Set<Tenant>().AsNoTracking().SingleOrDefaultAsync(t => t.Id == tenantId, cancellationToken);
        if (tenant is null)
        {
            return null;
        }

        if (await FindOpenAsync(tenantId, cancellationToken) is { } open)
        {
            return open;
        }

        var now = time.GetUtcNow();
        if (DueAt(tenant, reason, options.Value, now) is not { } due || due > now)
        {
            return null;
        }

        var purge = New(tenant, reason, due, now);
        purge.State = PurgeState.Requested;
        db.Set<TenantPurge>().Add(purge);
        OutboxInterceptor.Add(db, new PurgeRequested(tenantId, purge.Id));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return await FindOpenAsync(tenantId, cancellationToken); // another process queued it first
        }

        logger.LogInformation("Purge {PurgeId} of tenant {ClientKeyHash} requested ({Reason}, due {DueAt:o})", purge.Id, purge.ClientKeyHash, reason, due);
        return purge;
    }

    public Task<TenantPurge?> FindOpenAsync(Guid tenantId, CancellationToken cancellationToken) =>
        db.Set<TenantPurge>().SingleOrDefaultAsync(p => p.PurgedTenantId == tenantId && (p.State == PurgeState.Requested || p.State == PurgeState.Running), cancellationToken);

    public static TenantPurge New(Tenant tenant, PurgeReason reason, DateTimeOffset due, DateTimeOffset now) => new()
    {
        Id = Guid.NewGuid(),
        PurgedTenantId = tenant.Id,
        ClientKeyHash = TenantPurge.Hash(tenant.ClientKey),
        Reason = reason,
        UninstalledAt = tenant.UninstalledAt,
        DueAt = due,
        RequestedAt = now,
        UpdatedAt = now,
    };

    /// <summary>
    /// When <paramref name="tenant"/>'s data fall due for <paramref name="reason"/>, or null when they never do in its
    /// present state (installed, for retention; INACTIVITY_DAYS unset). Checked again when the purge runs.
    /// </summary>
    public static DateTimeOffset? DueAt(Tenant tenant, PurgeReason reason, RetentionOptions options, DateTimeOffset now) =>
        DueAt(tenant.UninstalledAt, tenant.UpdatedAt, tenant.LastSeenAt, reason, options, now);

    public static DateTimeOffset? DueAt(DateTimeOffset? uninstalledAt, DateTimeOffset updatedAt, DateTimeOffset? lastSeenAt, PurgeReason reason, RetentionOptions options, DateTimeOffset now) => reason switch
    {
        PurgeReason.Retention => uninstalledAt + options.Retention,
        PurgeReason.Inactivity => options.Inactivity is { } inactivity ? LastActivity(updatedAt, lastSeenAt) + inactivity : null,
        PurgeReason.Request => now,
        _ => null,
    };

    /// <summary>The last lifecycle callback (<c>updated_at</c>) or authenticated request, whichever is later.</summary>
    public static DateTimeOffset LastActivity(DateTimeOffset updatedAt, DateTimeOffset? lastSeenAt) => lastSeenAt is { } seen && seen > updatedAt ? seen : updatedAt;
}
