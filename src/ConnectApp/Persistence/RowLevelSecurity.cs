using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Persistence;

/// <summary>
/// The second wall behind the query code: every table with a <c>tenant_id</c> column gets FORCE row-level
/// security and one policy that shows and accepts only the rows of <c>app.tenant_id</c>. Applied by the
/// migrate role after the migrations, to every such table, so a new tenant-owned table cannot be forgotten.
/// </summary>
internal static class RowLevelSecurity
{
    public const string PolicyName = "tenant_isolation";

    // NULLIF: a pooled connection whose setting was reset reads '' (not NULL); ''::uuid would throw.
    public const string TenantPredicate = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid";

    /// <summary>
    /// Tables with a <c>tenant_id</c> that deliberately get no row-level security, because a process must read them
    /// across tenants before it knows which tenant to act for. Each holds ids only, never tenant data; the work they
    /// point to runs under its tenant. <c>outbox_messages</c>: the relay publishes every tenant's messages (docs/adr/0006, 0009).
    /// <c>search_documents</c> is the other kind of exemption (docs/adr/0010): a derived copy of records (the system of
    /// record stays under row-level security) whose GIN indexes PostgreSQL will not use under a policy; the search
    /// engine's single statement builder (PostgresSearchIndex.TenantSql) puts <c>tenant_id = @tenant</c> in every statement.
    /// <c>search_sort_keys</c> is part of that copy (the documents' values in sort order), read only joined to it.
    /// </summary>
    public static readonly string[] SystemTables = ["outbox_messages", "search_documents", "search_sort_keys"];

    public static async Task ApplyAsync(DbContext db, CancellationToken cancellationToken)
    {
        var tables = await db.Database.SqlQueryRaw<string>(
            """
            SELECT c.table_name AS "Value" FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
            ORDER BY 1
            """).ToListAsync(cancellationToken);
        foreach (var table in tables.Except(SystemTables, StringComparer.Ordinal))
        {
            var quoted = "\"" + table.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            var sql = $"""
                ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY;
                ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY;
                DROP POLICY IF EXISTS {PolicyName} ON {quoted};
                CREATE POLICY {PolicyName} ON {quoted} USING ({TenantPredicate}) WITH CHECK ({TenantPredicate});
                """;
#pragma warning disable EF1002 // identifiers come from the catalog and are quoted; there are no values
            await db.Database.ExecuteSqlRawAsync(sql, cancellationToken);
#pragma warning restore EF1002
        }
    }
}
