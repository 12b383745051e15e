using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ConnectApp.Persistence;

/// <summary>
/// A PostgreSQL session advisory lock (<c>pg_advisory_lock(hashtextextended(key, 0))</c>) on the connection an EF
/// context holds open for it: waits until the lock is free, and is released (and the connection closed) when disposed,
/// or by PostgreSQL if the process dies.
/// </summary>
internal sealed class AdvisoryLock : IAsyncDisposable
{
    private readonly DatabaseFacade _database;
    private readonly string _key;

    private AdvisoryLock(DatabaseFacade database, string key)
    {
        _database = database;
        _key = key;
    }

    public static async Task<AdvisoryLock> TakeAsync(DatabaseFacade database, string key, CancellationToken cancellationToken)
    {
        await database.OpenConnectionAsync(cancellationToken);
        await database.ExecuteSqlAsync($"SELECT pg_advisory_lock(hashtextextended({key}, 0))", cancellationToken);
        return new AdvisoryLock(database, key);
    }

    public async ValueTask DisposeAsync()
    {
        await _database.ExecuteSqlAsync($"SELECT pg_advisory_unlock(hashtextextended({_key}, 0))", CancellationToken.None);
        await _database.CloseConnectionAsync();
    }
}
