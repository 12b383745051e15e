using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectApp.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class SearchDocumentsWithoutRowLevelSecurity : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Custom SQL (ADR 10): search_documents, a derived copy of records, leaves row-level security so PostgreSQL
            // can use its GIN indexes (it refuses non-LEAKPROOF operators as index conditions under a policy). Tenant
            // isolation rests on PostgresSearchIndex's statement builder. RowLevelSecurity.SystemTables lists the table,
            // so the migrate role no longer re-adds the policy.
            migrationBuilder.Sql("""
                DROP POLICY IF EXISTS tenant_isolation ON search_documents;
                ALTER TABLE search_documents NO FORCE ROW LEVEL SECURITY;
                ALTER TABLE search_documents DISABLE ROW LEVEL SECURITY;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Custom SQL: the policy back, as RowLevelSecurity applies it to tenant tables.
            migrationBuilder.Sql("""
                ALTER TABLE search_documents ENABLE ROW LEVEL SECURITY;
                ALTER TABLE search_documents FORCE ROW LEVEL SECURITY;
                CREATE POLICY tenant_isolation ON search_documents
                    USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)
                    WITH CHECK (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
                """);
        }
    }
}
