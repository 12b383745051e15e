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

    public async Task<IssuePanelApi.StoredPanel> GetOrReadAsync(Guid tenantId, string key, Func<Task<IssuePanelApi.StoredPanel>> read)
    {
        if (!changes.TryStamp(tenantId, out var stamp))
        {
            return await read();
        }

        var cacheKey = (tenantId, key);
        if (_cache.TryGetValue(cacheKey, out Entry? entry) && entry!.Stamp == stamp)
        {
            return entry.Panel;
        }

        // Stamped before the read: a change committed during it moves the stamp, so this copy is never served.
        var panel = await read();
        _cache.Set(cacheKey, new Entry(stamp, panel), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = KeepFor });
        return panel;
    }

    public void Dispose() => _cache.Dispose();

    private sealed record Entry(TenantChanges.Stamp Stamp, IssuePanelApi.StoredPanel Panel);
}
