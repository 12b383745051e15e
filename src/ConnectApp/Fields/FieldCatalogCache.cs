using ConnectApp.Persistence;
using Microsoft.Extensions.Caching.Memory;

namespace ConnectApp.Fields;

/// <summary>
/// Field catalogs for agents' reads (the issue panel), cached per tenant for a few seconds: definitions
/// change rarely and every panel render needs them. A change made through this instance is visible at once (the
/// writer invalidates); one made through another instance within <see cref="CacheFor"/>. Writes never use this
/// cache: RecordWriter validates against freshly loaded definitions. Nor does the portal: a field just made
/// agents-only must not reach a customer even for a few seconds.
/// </summary>
internal sealed class FieldCatalogCache(IMemoryCache cache)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);

    public Task<(FieldCatalog Organization, FieldCatalog Customer)> GetBothAsync(Guid tenantId, AppDbContext db, CancellationToken cancellationToken) =>
        GetBothAsync(tenantId, () => db, cancellationToken);

    /// <summary>The same, with the context made only on a miss (the issue panel does not need one otherwise).</summary>
    public async Task<(FieldCatalog Organization, FieldCatalog Customer)> GetBothAsync(Guid tenantId, Func<AppDbContext> db, CancellationToken cancellationToken)
    {
        var key = Key(tenantId);
        if (cache.TryGetValue(key, out (FieldCatalog, FieldCatalog) cached))
        {
            return cached;
        }

        var loaded = await FieldCatalog.LoadBothAsync(db(), cancellationToken);
        cache.Set(key, loaded, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = CacheFor, Size = 1 });
        return loaded;
    }

    public async Task<FieldCatalog> GetAsync(Guid tenantId, RecordEntity entity, AppDbContext db, CancellationToken cancellationToken)
    {
        var (organization, customer) = await GetBothAsync(tenantId, db, cancellationToken);
        return entity == RecordEntity.Organization ? organization : customer;
    }

    public void Invalidate(Guid tenantId) => cache.Remove(Key(tenantId));

    private static string Key(Guid tenantId) => "field-catalogs:" + tenantId.ToString("N");
}
