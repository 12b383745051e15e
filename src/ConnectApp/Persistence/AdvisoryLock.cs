using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;

namespace ConnectApp.Persistence;

/// <summary>
/// A PostgreSQL session advisory lock (<c>pg_advisory_lock(hashtextextended(key, 0))</c>), held on a connection kept
/// open for it: the one an EF context holds, or one of its own from the data source (for work that spans the context's
/// own transactions). Released, and the connection closed, when disposed; or by PostgreSQL if the process dies.
/// </summary>
internal sealed class AdvisoryLock : IAsyncDisposable
{
    private readonly Func<ValueTask> _release;

    private AdvisoryLock(Func<ValueTask> release) => _release = release;

    /// <summary>Waits for the lock on the connection <paramref name="database"/>'s context holds open until disposed.</summary>
    public static async Task<AdvisoryLock> TakeAsync(DatabaseFacade database, string key, CancellationToken cancellationToken)
    {
        await database.OpenConnectionAsync(cancellationToken);
        await database.ExecuteSqlAsync($"SELECT pg_advisory_lock(hashtextextended({key}, 0))", cancellationToken);
        return new AdvisoryLock(async () =>
        {
            await database.ExecuteSqlAsync($"SELECT pg_advisory_unlock(hashtextextended({key}, 0))", CancellationToken.None);
            await database.CloseConnectionAsync();
        });
    }

    /// <summary>Waits for the lock on a connection of its own.</summary>
    public static async Task<AdvisoryLock> TakeAsync(NpgsqlDataSource dataSource, string key, CancellationToken cancellationToken) =>
        (await TakeOwnAsync(dataSource, key, wait: true, cancellationToken))!;

    /// <summary>The lock on a connection of its own if no one holds it; null (and nothing held) if someone does.</summary>
    public static Task<AdvisoryLock?> TryTakeAsync(NpgsqlDataSource dataSource, string key, CancellationToken cancellationToken) =>
        TakeOwnAsync(dataSource, key, wait: false, cancellationToken);

    public ValueTask DisposeAsync() => _release();

    private static async Task<AdvisoryLock?> TakeOwnAsync(NpgsqlDataSource dataSource, string key, bool wait, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var take = new NpgsqlCommand(wait ? "SELECT pg_advisory_lock(hashtextextended(@k, 0))" : "SELECT pg_try_advisory_lock(hashtextextended(@k, 0))", connection);
            take.Parameters.AddWithValue("k", key);
            if (await take.ExecuteScalarAsync(cancellationToken) is not true && !wait)
            {
                await connection.DisposeAsync();
                return null;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        return new AdvisoryLock(async () =>
        {
            await using (connection)
            {
                await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended(@k, 0))", connection);
                release.Parameters.AddWithValue("k", key);
                await release.ExecuteNonQueryAsync(CancellationToken.None);
            }
        });
    }
}
