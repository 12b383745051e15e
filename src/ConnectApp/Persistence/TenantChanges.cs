using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Caching.Memory;
using Npgsql;

namespace ConnectApp.Persistence;

/// <summary>
/// Whether what a process cached about a tenant is still what PostgreSQL holds: a generation per tenant, moved on by
/// every committed change to the tables caches are made of (records, memberships, field definitions and options), in every process.
/// A trigger on those tables sends <c>NOTIFY connectapp_tenant_changes, '&lt;tenant id&gt;'</c> (PostgreSQL delivers it
/// at commit, whichever process or statement made the change: EF, bulk SQL, imports, the sync, purges); each web
/// process listens (<see cref="TenantChangeListener"/>); and the writing process also moves its own generation the
/// moment its transaction commits (<see cref="TenantChangeInterceptor"/>), so its next read never waits for the
/// notification. A cache takes a <see cref="Stamp"/> before it reads the database and keeps what it read with it; a
/// cached value is used only while the tenant's stamp is unchanged. While the listener is not connected (startup, a
/// database outage, another role) there is no stamp: caches read through.
/// </summary>
internal sealed class TenantChanges
{
    public const string Channel = "connectapp_tenant_changes";

    private readonly ConcurrentDictionary<Guid, long> _generations = new();
    private long _epoch; // moved on at every (re)connection of the listener: what was cached before it is forgotten
    private volatile bool _listening;

    /// <summary>The tenant's generation as of a moment; equal stamps mean nothing changed between them.</summary>
    public readonly record struct Stamp(long Epoch, long Generation);

    /// <summary>The tenant's current stamp, or false when changes cannot be heard (then nothing may be served from a cache).</summary>
    public bool TryStamp(Guid tenantId, out Stamp stamp)
    {
        var epoch = Volatile.Read(ref _epoch);
        if (!_listening)
        {
            stamp = default;
            return false;
        }

        stamp = new Stamp(epoch, _generations.GetValueOrDefault(tenantId));
        return true;
    }

    /// <summary>
    /// The cache's copy under <paramref name="key"/> while the tenant's stamp is the one it was read under; else
    /// <paramref name="read"/>, stamped before it reads (a change committed during the read moves the stamp, so that
    /// copy is never served) and kept with <paramref name="entry"/>'s options — if <paramref name="admit"/> (asked
    /// after a read) does not say no. Without a stamp: read through.
    /// </summary>
    public async Task<T> GetOrReadAsync<T>(IMemoryCache cache, object key, Guid tenantId, Func<Task<T>> read, MemoryCacheEntryOptions entry, Func<bool>? admit = null)
    {
        if (!TryStamp(tenantId, out var stamp))
        {
            return await read();
        }

        if (cache.TryGetValue(key, out Stamped<T>? cached) && cached!.Stamp == stamp)
        {
            return cached.Value;
        }

        var value = await read();
        if (admit is null || admit())
        {
            cache.Set(key, new Stamped<T>(stamp, value), entry);
        }

        return value;
    }

    public void Changed(Guid tenantId) => _generations.AddOrUpdate(tenantId, 1, static (_, generation) => generation + 1);

    private sealed record Stamped<T>(Stamp Stamp, T Value);

    internal void Listening()
    {
        Interlocked.Increment(ref _epoch);
        _listening = true;
    }

    internal void Deaf()
    {
        _listening = false;
        Interlocked.Increment(ref _epoch);
    }
}

/// <summary>
/// The web role's ear for <see cref="TenantChanges"/>: a connection of its own that <c>LISTEN</c>s, checked every
/// 15 seconds; when it is lost, caches read through until it is back (and then start empty).
/// </summary>
internal sealed class TenantChangeListener(NpgsqlDataSource dataSource, TenantChanges changes, ILogger<TenantChangeListener> logger) : BackgroundService
{
    public const string ApplicationName = "connectapp tenant changes";

    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retry = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever it was, the web process keeps serving: only its caches stop until the listener is back.
                changes.Deaf();
                logger.LogWarning("Not hearing tenant changes ({Error}); caches read through until the database answers", e.GetType().Name);
                try
                {
                    await Task.Delay(retry, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                retry = TimeSpan.FromMilliseconds(Math.Min(retry.TotalMilliseconds * 2, 5_000));
                continue;
            }

            retry = TimeSpan.FromMilliseconds(250);
        }

        changes.Deaf();
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
        connection.Notification += (_, e) =>
        {
            if (Guid.TryParse(e.Payload, out var tenantId))
            {
                changes.Changed(tenantId);
            }
        };
        // Named, so an operator (or a test) can find it in pg_stat_activity; the pool's reset clears the name on return.
        await using (var listen = new NpgsqlCommand($"SELECT set_config('application_name', '{ApplicationName}', false); LISTEN {TenantChanges.Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken);
        }

        changes.Listening();
        try
        {
            while (true)
            {
                if (!await connection.WaitAsync(CheckEvery, stoppingToken))
                {
                    await using var ping = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = 5 };
                    await ping.ExecuteScalarAsync(stoppingToken);
                }
            }
        }
        finally
        {
            changes.Deaf();
        }
    }
}

/// <summary>
/// Moves the writing process's own generation of a tenant when a context that changed one of the cached tables
/// commits (the notification from the trigger follows, for every process). Changes made without a context's change
/// tracker (bulk SQL) are heard from the notification alone.
/// </summary>
internal sealed class TenantChangeInterceptor(TenantChanges changes) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    /// <summary>The tables whose trigger notifies (migration TenantChangeNotifications).</summary>
    public static readonly IReadOnlySet<string> Tables = new HashSet<string>(StringComparer.Ordinal) { "records", "memberships", "field_definitions", "field_options" };

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Note(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Note(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        CommittedUnlessInTransaction(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        CommittedUnlessInTransaction(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) => Committed(eventData.Context);

    public Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Committed(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    public Task TransactionRolledBackAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    private static void Note(DbContext? context)
    {
        if (context is AppDbContext { Tenant.TenantId: not null } db && !db.ChangedCachedTables
            && db.ChangeTracker.Entries().Any(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted && e.Metadata.GetTableName() is { } table && Tables.Contains(table)))
        {
            db.ChangedCachedTables = true;
        }
    }

    private void CommittedUnlessInTransaction(DbContext? context)
    {
        if (context is { Database.CurrentTransaction: null })
        {
            Committed(context);
        }
    }

    private void Committed(DbContext? context)
    {
        if (context is AppDbContext { ChangedCachedTables: true, Tenant.TenantId: { } tenantId } db)
        {
            db.ChangedCachedTables = false;
            changes.Changed(tenantId);
        }
    }

    private static void Forget(DbContext? context)
    {
        if (context is AppDbContext db)
        {
            db.ChangedCachedTables = false;
        }
    }
}
