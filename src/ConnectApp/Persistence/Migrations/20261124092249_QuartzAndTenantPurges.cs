using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectApp.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class QuartzAndTenantPurges : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "last_seen_at",
                table: "tenants",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "tenant_purges",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    purged_tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    client_key_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    reason = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    state = table.Column<string>(type: "character varying(24)", maxLength: 24, nullable: false),
                    uninstalled_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    due_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    requested_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    started_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    finished_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    row_counts = table.Column<string>(type: "jsonb", nullable: false),
                    note = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    confirmation_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    confirmation_expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_tenant_purges", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_tenant_purges_finished_at",
                table: "tenant_purges",
                column: "finished_at");

            migrationBuilder.CreateIndex(
                name: "ix_tenant_purges_purged_tenant_id_requested_at",
                table: "tenant_purges",
                columns: new[] { "purged_tenant_id", "requested_at" });

            migrationBuilder.CreateIndex(
                name: "ux_tenant_purges_open",
                table: "tenant_purges",
                column: "purged_tenant_id",
                unique: true,
                filter: "state IN ('Requested', 'Running')");

            // Custom SQL (carry over if this migration is regenerated): Quartz's own tables, from its official script.
            migrationBuilder.Sql(QuartzSchema.Create);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Custom SQL: see Up.
            migrationBuilder.Sql(QuartzSchema.Drop);

            migrationBuilder.DropTable(
                name: "tenant_purges");

            migrationBuilder.DropColumn(
                name: "last_seen_at",
                table: "tenants");
        }
    }
}
