using ConnectApp.Persistence;
using Microsoft.Extensions.Caching.Memory;

namespace ConnectApp.Fields;

/// <summary>
/// Field catalogs for agents' reads (the issue panel, the directory list, saved views), cached per tenant until a field or option of the
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
    public Task<(FieldCatalog Organization, FieldCatalog Customer)> GetBothAsync(Guid tenantId, Func<AppDbContext> db, CancellationToken cancellationToken) =>
        changes.GetOrReadAsync(cache, Key(tenantId), tenantId, () => FieldCatalog.LoadBothAsync(db(), cancellationToken), new MemoryCacheEntryOptions { SlidingExpiration = KeepFor, Size = 1 });

    public async Task<FieldCatalog> GetAsync(Guid tenantId, RecordEntity entity, AppDbContext db, CancellationToken cancellationToken)
    {
        var (organization, customer) = await GetBothAsync(tenantId, db, cancellationToken);
        return entity == RecordEntity.Organization ? organization : customer;
    }

    private static string Key(Guid tenantId) => "field-catalogs:" + tenantId.ToString("N");
}
