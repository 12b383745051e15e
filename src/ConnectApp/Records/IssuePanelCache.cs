using ConnectApp.Persistence;
using Microsoft.Extensions.Caching.Memory;

namespace ConnectApp.Records;

/// <summary>
/// The issue panel's reads from the database, kept per site, role and accountIds for as long as nothing of that site
/// changed in the cached tables, in any process (<see cref="TenantChanges"/>: a committed change moves the site's stamp,
/// and a copy is served only under the stamp it was read under). An agent opening issue after issue of the same
/// customers costs no database round trip; an edit anywhere is seen by the next look. At most
/// <see cref="MaxEntries"/> panels are kept (least recently used go first), each for at most <see cref="KeepFor"/>.
/// Without a stamp (the listener not connected) every look reads the database.
/// </summary>
internal sealed class IssuePanelCache(TenantChanges changes) : IDisposable
{
    public const int MaxEntries = 2_000;

    public static readonly TimeSpan KeepFor = TimeSpan.FromMinutes(5);

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries, CompactionPercentage = 0.25 });

    public Task<IssuePanelApi.StoredPanel> GetOrReadAsync(Guid tenantId, string key, Func<Task<IssuePanelApi.StoredPanel>> read) =>
        changes.GetOrReadAsync(_cache, (tenantId, key), tenantId, read, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = KeepFor });

    public void Dispose() => _cache.Dispose();
}
