using Npgsql;

namespace ConnectApp.Tests.Infrastructure;

/// <summary>
/// Row counts of one tenant in every table with <c>tenant_id</c> (found from the schema, as the purge finds them), read
/// as the PostgreSQL superuser: row-level security does not apply to it, so a count cannot be hidden by a policy.
/// </summary>
internal static class TenantTableCounts
{
    /// <summary>The superuser's connection to the same database (scripts/services.sh: PG_SUPERUSER_PASSWORD, default postgres).</summary>
    public static string Superuser(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString)
    {
        Username = "postgres",
        Password = Environment.GetEnvironmentVariable("PG_SUPERUSER_PASSWORD") ?? "postgres",
        Pooling = false,
    }.ConnectionString;

    public static async Task<SortedDictionary<string, long>> CountAsync(string connectionString, Guid tenantId)
    {
        await using var connection = new NpgsqlConnection(Superuser(connectionString));
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            """
            SELECT c.table_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' ORDER BY 1
            """, connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\" WHERE tenant_id = @t", connection);
            count.Parameters.AddWithValue("t", tenantId);
            counts[table] = (long)(await count.ExecuteScalarAsync())!;
        }

        return counts;
    }

    /// <summary>Rows of any table, any column, that still hold one of <paramref name="needles"/> (as the superuser: no policy hides a row).</summary>
    public static async Task<long> TracesAsync(string connectionString, params string[] needles)
    {
        await using var connection = new NpgsqlConnection(Superuser(connectionString));
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        long traces = 0;
        foreach (var table in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\" t WHERE t::text ILIKE ANY(@needles)", connection);
            count.Parameters.AddWithValue("needles", needles.Select(n => "%" + n + "%").ToArray());
            traces += (long)(await count.ExecuteScalarAsync())!;
        }

        return traces;
    }

    public static async Task<T?> ScalarAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(Superuser(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes (then fails with <paramref name="what"/>).</summary>
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var until = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                Assert.Fail("Timed out waiting for " + what);
            }

            await Task.Delay(200);
        }
    }
}
