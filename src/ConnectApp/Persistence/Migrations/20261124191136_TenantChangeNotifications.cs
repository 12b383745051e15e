using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectApp.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class TenantChangeNotifications : Migration
    {
        private static readonly string[] Tables = ["records", "memberships", "field_definitions", "field_options"];

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Custom SQL (not generated): every committed change to the tables caches are made of notifies
            // connectapp_tenant_changes with the tenant's id (TenantChanges). Statement-level, so a bulk statement
            // notifies once per tenant it touched, not once per row; PostgreSQL folds repeats within a transaction.
            migrationBuilder.Sql("""
                CREATE FUNCTION connectapp_notify_tenant_change() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE t uuid;
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        FOR t IN SELECT DISTINCT tenant_id FROM changed_old LOOP PERFORM pg_notify('connectapp_tenant_changes', t::text); END LOOP;
                    ELSE
                        FOR t IN SELECT DISTINCT tenant_id FROM changed_new LOOP PERFORM pg_notify('connectapp_tenant_changes', t::text); END LOOP;
                    END IF;
                    RETURN NULL;
                END $$;
                """);
            foreach (var table in Tables)
            {
                migrationBuilder.Sql($"""
                    CREATE TRIGGER {table}_changed_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION connectapp_notify_tenant_change();
                    CREATE TRIGGER {table}_changed_update AFTER UPDATE ON {table} REFERENCING NEW TABLE AS changed_new FOR EACH STATEMENT EXECUTE FUNCTION connectapp_notify_tenant_change();
                    CREATE TRIGGER {table}_changed_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS changed_old FOR EACH STATEMENT EXECUTE FUNCTION connectapp_notify_tenant_change();
                    """);
            }
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            foreach (var table in Tables)
            {
                migrationBuilder.Sql($"""
                    DROP TRIGGER {table}_changed_insert ON {table};
                    DROP TRIGGER {table}_changed_update ON {table};
                    DROP TRIGGER {table}_changed_delete ON {table};
                    """);
            }

            migrationBuilder.Sql("DROP FUNCTION connectapp_notify_tenant_change();");
        }
    }
}
