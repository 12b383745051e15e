using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectApp.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class SearchSortKeys : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "search_sort_keys",
                columns: table => new
                {
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    record_id = table.Column<Guid>(type: "uuid", nullable: false),
                    field_id = table.Column<Guid>(type: "uuid", nullable: false),
                    value = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_search_sort_keys", x => new { x.tenant_id, x.record_id, x.field_id });
                });

            migrationBuilder.CreateIndex(
                name: "ix_search_sort_keys_tenant_id_field_id_value_record_id",
                table: "search_sort_keys",
                columns: new[] { "tenant_id", "field_id", "value", "record_id" });

            // Custom SQL (ADR 10): search_sort_keys is derived from search_documents.field_values by statement-level
            // triggers (one set-based statement per write, so the mirror's and the reindex's batches stay batches): a
            // document's keys are replaced when its values change and removed with it. Keys: a field's value when it is
            // a number, a boolean or a string of at most 256 bytes as JSON (what a btree holds; number, date and checkbox
            // sorts use the table, and their values are all of that kind). Then the keys of the documents already indexed.
            migrationBuilder.Sql("""
                CREATE FUNCTION search_sort_keys_sync() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP IN ('UPDATE', 'DELETE') THEN
                        DELETE FROM search_sort_keys k USING old_rows o
                        WHERE k.tenant_id = o.tenant_id AND k.record_id = o.record_id;
                    END IF;
                    IF TG_OP IN ('INSERT', 'UPDATE') THEN
                        INSERT INTO search_sort_keys (tenant_id, record_id, field_id, value)
                        SELECT n.tenant_id, n.record_id, v.key::uuid, v.value FROM new_rows n, jsonb_each(n.field_values) v
                        WHERE jsonb_typeof(v.value) IN ('number', 'boolean', 'string') AND octet_length(v.value::text) <= 256
                          AND v.key ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
                    END IF;
                    RETURN NULL;
                END $$;
                CREATE TRIGGER search_sort_keys_insert AFTER INSERT ON search_documents
                    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_sort_keys_sync();
                CREATE TRIGGER search_sort_keys_update AFTER UPDATE ON search_documents
                    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION search_sort_keys_sync();
                CREATE TRIGGER search_sort_keys_delete AFTER DELETE ON search_documents
                    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION search_sort_keys_sync();
                INSERT INTO search_sort_keys (tenant_id, record_id, field_id, value)
                SELECT d.tenant_id, d.record_id, v.key::uuid, v.value FROM search_documents d, jsonb_each(d.field_values) v
                WHERE jsonb_typeof(v.value) IN ('number', 'boolean', 'string') AND octet_length(v.value::text) <= 256
                  AND v.key ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Custom SQL: the triggers and their function.
            migrationBuilder.Sql("""
                DROP TRIGGER search_sort_keys_insert ON search_documents;
                DROP TRIGGER search_sort_keys_update ON search_documents;
                DROP TRIGGER search_sort_keys_delete ON search_documents;
                DROP FUNCTION search_sort_keys_sync();
                """);

            migrationBuilder.DropTable(
                name: "search_sort_keys");
        }
    }
}
