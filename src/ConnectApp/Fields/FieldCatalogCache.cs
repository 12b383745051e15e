using ConnectApp.Persistence;
using Microsoft.Extensions.Caching.Memory;

namespace ConnectApp.Fields;

/// <summary>
/// Field catalogs for agents' reads (the issue panel, saved views), cached per tenant until a field or option of the
/// tenant changes in any process (<see cref="TenantChanges"/>): definitions change rarely and every panel render
/// needs them. Without a stamp (the listener not connected) they are read through. Writes never use this cache:
/// RecordWriter validates against freshly loaded definitions. Nor does the portal.
/// </summary>
internal sealed class FieldCatalogCache(IMemoryCache cache, TenantChanges changes)
{
    /// <summary>How long an unchanged catalog stays in memory after it was read.</summary>
    public static readonly TimeSpan KeepFor = TimeSpan.FromMinutes(10);

    public Task<(FieldCatalog Organization, FieldCatalog Customer)> GetBothAsync(Guid tenantId, AppDbContext db, CancellationToken cancellationToken) =>
        GetBothAsync(tenantId, () => db, cancellationToken);

    /// <summary>The same, with the context made only on a miss (the issue panel does not need one otherwise).</summary>
    public async Task<(FieldCatalog Organization, FieldCatalog Customer)> GetBothAsync(Guid tenantId, Func<AppDbContext> db, CancellationToken cancellationToken)
    {
        if (!changes.TryStamp(tenantId, out var stamp))
        {
            return await FieldCatalog.LoadBothAsync(db(), cancellationToken);
        }

        var key = Key(tenantId);
        if (cache.TryGetValue(key, out Cached? cached) && cached!.Stamp == stamp)
        {
            return cached.Catalogs;
        }

        // Stamped before the read: a change committed during it moves the stamp, so this copy is never served.
        var loaded = await FieldCatalog.LoadBothAsync(db(), cancellationToken);
        cache.Set(key, new Cached(stamp, loaded), new MemoryCacheEntryOptions { SlidingExpiration = KeepFor, Size = 1 });
        return loaded;
    }

    public async Task<FieldCatalog> GetAsync(Guid tenantId, RecordEntity entity, AppDbContext db, CancellationToken cancellationToken)
    {
        var (organization, customer) = await GetBothAsync(tenantId, db, cancellationToken);
        return entity == RecordEntity.Organization ? organization : customer;
    }

    private static string Key(Guid tenantId) => "field-catalogs:" + tenantId.ToString("N");

    private sealed record Cached(TenantChanges.Stamp Stamp, (FieldCatalog Organization, FieldCatalog Customer) Catalogs);
}
