using AtlassianConnect.Lifecycle;
using ConnectApp.Persistence;
using ConnectApp.Secrets;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Tenants;

/// <summary>
/// Applies verified lifecycle callbacks. Every callback is idempotent and safe out of order: installed upserts
/// (a reinstall replaces everything but the clientKey, including the secret, and clears an uninstall);
/// uninstalled keeps the first uninstall time; enabled/disabled never revive an uninstalled tenant.
/// </summary>
internal sealed class TenantLifecycle(
    AppDbContext db, TenantScope scope, SecretProtector secrets, TenantStore store, TimeProvider time, IEnumerable<ITenantLifecycleObserver> observers, ILogger<TenantLifecycle> logger)
    : IConnectLifecycleHandler
{
    public async Task InstalledAsync(LifecycleEvent payload, CancellationToken cancellationToken)
    {
        var clientKey = payload.ClientKey!;
        var secret = secrets.Protect(payload.SharedSecret!, clientKey);
        var now = time.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        // One statement, so two concurrent installs of the same site cannot both insert.
        var ids = await db.Database.SqlQuery<Guid>($"""
            INSERT INTO tenants (client_key, base_url, display_url, display_url_servicedesk_help_center, product_type, description,
                server_version, plugins_version, oauth_client_id, installation_id, entitlement_id, entitlement_number,
                shared_secret_ciphertext, shared_secret_key_id, enabled, installed_at, updated_at, uninstalled_at)
            VALUES ({clientKey}, {payload.BaseUrl}, {payload.DisplayUrl}, {payload.DisplayUrlServicedeskHelpCenter}, {payload.ProductType}, {payload.Description},
                {payload.ServerVersion}, {payload.PluginsVersion}, {payload.OauthClientId}, {payload.InstallationId}, {payload.EntitlementId}, {payload.EntitlementNumber},
                {secret.Ciphertext}, {secret.KeyId}, TRUE, {now}, {now}, NULL)
            ON CONFLICT (client_key) DO UPDATE SET
                base_url = EXCLUDED.base_url, display_url = EXCLUDED.display_url,
                display_url_servicedesk_help_center = EXCLUDED.display_url_servicedesk_help_center,
                product_type = EXCLUDED.product_type, description = EXCLUDED.description,
                server_version = EXCLUDED.server_version, plugins_version = EXCLUDED.plugins_version,
                oauth_client_id = EXCLUDED.oauth_client_id, installation_id = EXCLUDED.installation_id,
                entitlement_id = EXCLUDED.entitlement_id, entitlement_number = EXCLUDED.entitlement_number,
                shared_secret_ciphertext = EXCLUDED.shared_secret_ciphertext, shared_secret_key_id = EXCLUDED.shared_secret_key_id,
                enabled = TRUE, updated_at = EXCLUDED.updated_at, uninstalled_at = NULL,
                installed_at = CASE WHEN tenants.uninstalled_at IS NULL THEN tenants.installed_at ELSE EXCLUDED.installed_at END
            RETURNING id
            """).ToListAsync(cancellationToken);
        var id = ids.Single();
        await RecordAsync(id, "installed", payload, now, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        store.Forget(clientKey);
        logger.LogInformation("Tenant {TenantId} installed from {BaseUrl}", id, payload.BaseUrl);
    }

    public async Task UninstalledAsync(LifecycleEvent payload, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await ChangeAsync(payload, "uninstalled", now, t => t.UninstalledAt ??= now, cancellationToken);
    }

    public Task EnabledAsync(LifecycleEvent payload, CancellationToken cancellationToken) =>
        ChangeAsync(payload, "enabled", time.GetUtcNow(), t => { if (t.UninstalledAt is null) { t.Enabled = true; } }, cancellationToken);

    public Task DisabledAsync(LifecycleEvent payload, CancellationToken cancellationToken) =>
        ChangeAsync(payload, "disabled", time.GetUtcNow(), t => { if (t.UninstalledAt is null) { t.Enabled = false; } }, cancellationToken);

    private async Task ChangeAsync(LifecycleEvent payload, string eventType, DateTimeOffset now, Action<Tenant> change, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var tenant = await db.Set<Tenant>().FromSql($"SELECT * FROM tenants WHERE client_key = {payload.ClientKey} FOR UPDATE").SingleOrDefaultAsync(cancellationToken);
        if (tenant is null)
        {
            // A callback for a site we never stored (or already purged): nothing to change, and nothing to tell Jira.
            logger.LogInformation("Lifecycle {EventType} for an unknown tenant ignored", eventType);
            return;
        }

        change(tenant);
        tenant.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
        await RecordAsync(tenant.Id, eventType, payload, now, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        store.Forget(tenant.ClientKey);
        logger.LogInformation("Tenant {TenantId} {EventType}", tenant.Id, eventType);
    }

    private async Task RecordAsync(Guid tenantId, string eventType, LifecycleEvent payload, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await scope.EnterAsync(tenantId, db, cancellationToken); // the connection is already open: the transaction began before the tenant was known
        db.Set<TenantLifecycleEvent>().Add(new TenantLifecycleEvent
        {
            TenantId = tenantId,
            EventType = eventType,
            OccurredAt = now,
            PluginsVersion = payload.PluginsVersion,
            ServerVersion = payload.ServerVersion,
        });
        foreach (var observer in observers)
        {
            // In this transaction, under the tenant: what follows the lifecycle (the retention schedule, the directory
            // sync) commits with the callback or not at all.
            await observer.ChangedAsync(tenantId, eventType, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}

/// <summary>
/// A later feature that must follow the tenant's lifecycle in the callback's own transaction (Retention: schedule or
/// cancel the purge; Sync: a directory sync on install). It adds to the scope's unit of work (the same AppDbContext);
/// the lifecycle saves and commits it.
/// </summary>
internal interface ITenantLifecycleObserver
{
    /// <summary>The tenant <paramref name="tenantId"/> was installed, uninstalled, enabled or disabled (<paramref name="eventType"/>).</summary>
    Task ChangedAsync(Guid tenantId, string eventType, CancellationToken cancellationToken);
}
