using Npgsql;

namespace ConnectApp.Retention;

/// <summary>
/// The tenant-owned tables, found from the schema: every base table of <c>public</c> with a <c>tenant_id</c> column,
/// so a table added later is purged without anyone remembering to. Ordered children first (a table comes before
/// every tenant-owned table its foreign keys point to), so each delete finds no rows still pointing at it.
/// </summary>
internal static class TenantTables
{
    public static async Task<IReadOnlyList<string>> DiscoverAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var tables = new List<string>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT c.table_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
            ORDER BY 1
            """, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var references = new List<(string Child, string Parent)>();
        await using (var command = new NpgsqlCommand(
            """
            SELECT child.relname, parent.relname FROM pg_constraint con
            JOIN pg_class child ON child.oid = con.conrelid
            JOIN pg_class parent ON parent.oid = con.confrelid
            WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace AND child.oid <> parent.oid
            """, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                references.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        return ChildrenFirst(tables, references);
    }

    /// <summary>A table is placed once every table that references it is placed; a cycle (none today) falls back to name order.</summary>
    public static IReadOnlyList<string> ChildrenFirst(IReadOnlyList<string> tables, IReadOnlyList<(string Child, string Parent)> references)
    {
        var set = tables.ToHashSet(StringComparer.Ordinal);
        var children = tables.ToDictionary(t => t, t => references.Where(r => r.Parent == t && set.Contains(r.Child)).Select(r => r.Child).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var ordered = new List<string>();
        var left = new SortedSet<string>(tables, StringComparer.Ordinal);
        while (left.Count > 0)
        {
            var next = left.FirstOrDefault(t => children[t].All(c => !left.Contains(c))) ?? left.Min!;
            ordered.Add(next);
            left.Remove(next);
        }

        return ordered;
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
