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
/// <para>
/// A panel is kept from its second read on, not its first (<see cref="Doorkeeper"/>). A panel looked at once and never
/// again is most of what a busy site asks for (issue after issue of different customers); keeping each for its few
/// seconds in a full cache only made garbage the collector had to find in its oldest generation: 2,000 cached panels
/// evicted about every second under a stream of new reporters took the web process's heap from 40 to 100 MB (bench,
/// 2026-11-24). A panel looked at twice (the same customer's next issue, a reload) is kept, and served from then on.
/// </para>
/// </summary>
internal sealed class IssuePanelCache(TenantChanges changes) : IDisposable
{
    public const int MaxEntries = 2_000;

    public static readonly TimeSpan KeepFor = TimeSpan.FromMinutes(5);

    private readonly MemoryCache _cache = new(new MemoryCacheOptions { SizeLimit = MaxEntries, CompactionPercentage = 0.25 });

    private readonly Doorkeeper _seen = new(16_384);

    public Task<IssuePanelApi.StoredPanel> GetOrReadAsync(Guid tenantId, string key, Func<Task<IssuePanelApi.StoredPanel>> read)
    {
        var cacheKey = (tenantId, key);
        return changes.GetOrReadAsync(_cache, cacheKey, tenantId, read, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = KeepFor }, () => _seen.SeenBefore(cacheKey));
    }

    public void Dispose() => _cache.Dispose();
}

/// <summary>
/// Whether a key was asked for before, recently: one slot per hash of the key, in a fixed array (the admission filter of
/// TinyLFU-style caches). A key's slot is overwritten by another key with the same low bits, so "recently" is about as
/// many other keys as there are slots. Two keys with the same hash pass for each other; two threads racing on a slot
/// lose one mark. Both only cost one read more or less, never a wrong answer.
/// </summary>
internal sealed class Doorkeeper(int slots)
{
    private readonly int[] _hashes = new int[System.Numerics.BitOperations.RoundUpToPowerOf2((uint)slots)];

    /// <summary>True if <paramref name="key"/> was seen since its slot was last taken; marks it seen either way.</summary>
    public bool SeenBefore(object key)
    {
        var hash = key.GetHashCode() | 1; // 0 is an empty slot
        ref var slot = ref _hashes[(int)((uint)System.Numerics.BitOperations.RotateLeft((uint)hash, 16) & (uint)(_hashes.Length - 1))];
        if (Volatile.Read(ref slot) == hash)
        {
            return true;
        }

        Volatile.Write(ref slot, hash);
        return false;
    }
}
