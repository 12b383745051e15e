using AtlassianConnect;
using AtlassianConnect.Forge;
using ConnectApp.Persistence;
using ConnectApp.Secrets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace ConnectApp.Tenants;

/// <summary>
/// Resolves installations for the Connect library: one indexed read by clientKey, secret decrypted, cached
/// for a minute (so a disable or uninstall handled by another instance takes effect within a minute; a
/// reinstall's new secret takes effect at once through the refresh after a signature failure).
/// </summary>
internal sealed class TenantStore(IServiceScopeFactory scopes, IMemoryCache cache, SecretProtector secrets) : IConnectTenantStore, IForgeInstallationStore
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(1);

    public async ValueTask<ConnectTenant?> FindAsync(string clientKey, bool refresh, CancellationToken cancellationToken)
    {
        var key = CacheKey(clientKey);
        if (!refresh && cache.TryGetValue(key, out ConnectTenant? cached))
        {
            return cached;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var row = await db.Set<Tenant>().AsNoTracking().SingleOrDefaultAsync(t => t.ClientKey == clientKey, cancellationToken);
        var tenant = row is null ? null : ToConnectTenant(row, secrets);
        cache.Set(key, tenant, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = CacheFor, Size = 1 });
        return tenant;
    }

    /// <summary>
    /// The installation a Forge installation id belongs to: the one whose lifecycle payload carried it (Jira sends
    /// <c>installationId</c> once the app is registered on Forge). An id no tenant carried, or that two carry, finds
    /// nothing: the token is refused rather than guessed at.
    /// </summary>
    public async ValueTask<ConnectTenant?> FindByInstallationAsync(string installationId, CancellationToken cancellationToken)
    {
        // Only the link is cached here; the installation itself comes through FindAsync and its cache, which a lifecycle
        // callback clears (Forget), so an uninstall refuses Forge calls as soon as Connect ones.
        var key = "tenant-installation:" + installationId;
        if (!cache.TryGetValue(key, out string? clientKey))
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var keys = await db.Set<Tenant>().AsNoTracking().Where(t => t.InstallationId == installationId).Select(t => t.ClientKey).Take(2).ToListAsync(cancellationToken);
            clientKey = keys.Count == 1 ? keys[0] : null;
            cache.Set(key, clientKey, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = CacheFor, Size = 1 });
        }

        return clientKey is null ? null : await FindAsync(clientKey, refresh: false, cancellationToken);
    }

    public void Forget(string clientKey) => cache.Remove(CacheKey(clientKey));

    public static ConnectTenant ToConnectTenant(Tenant row, SecretProtector secrets)
    {
        var secret = secrets.Unprotect(new EncryptedSecret(row.SharedSecretCiphertext, row.SharedSecretKeyId), row.ClientKey);
        var state = row.UninstalledAt is not null ? ConnectTenantState.Uninstalled
            : row.Enabled ? ConnectTenantState.Enabled
            : ConnectTenantState.Disabled;
        return new ConnectTenant(row.Id, row.ClientKey, secret, new Uri(row.BaseUrl), state);
    }

    private static string CacheKey(string clientKey) => "tenant:" + clientKey;
}
