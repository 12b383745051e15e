using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectApp.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class MembershipWriteBackAndEmailRules : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "email_domain_rules",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    domain = table.Column<string>(type: "character varying(253)", maxLength: 253, nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_email_domain_rules", x => x.id);
                    table.ForeignKey(
                        name: "fk_email_domain_rules_records_organization_id",
                        column: x => x.organization_id,
                        principalTable: "records",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_email_domain_rules_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "membership_changes",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    tenant_id = table.Column<Guid>(type: "uuid", nullable: false),
                    customer_id = table.Column<Guid>(type: "uuid", nullable: false),
                    organization_id = table.Column<Guid>(type: "uuid", nullable: false),
                    operation = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    reason = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    rule_id = table.Column<Guid>(type: "uuid", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    completed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_membership_changes", x => x.id);
                    table.ForeignKey(
                        name: "fk_membership_changes_records_customer_id",
                        column: x => x.customer_id,
                        principalTable: "records",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_membership_changes_records_organization_id",
                        column: x => x.organization_id,
                        principalTable: "records",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_membership_changes_tenants_tenant_id",
                        column: x => x.tenant_id,
                        principalTable: "tenants",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_email_domain_rules_organization_id",
                table: "email_domain_rules",
                column: "organization_id");

            migrationBuilder.CreateIndex(
                name: "ix_email_domain_rules_tenant_id_domain_organization_id",
                table: "email_domain_rules",
                columns: new[] { "tenant_id", "domain", "organization_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_membership_changes_customer_id",
                table: "membership_changes",
                column: "customer_id");

            migrationBuilder.CreateIndex(
                name: "ix_membership_changes_organization_id",
                table: "membership_changes",
                column: "organization_id");

            migrationBuilder.CreateIndex(
                name: "ix_membership_changes_tenant_id_customer_id_organization_id",
                table: "membership_changes",
                columns: new[] { "tenant_id", "customer_id", "organization_id" });

            migrationBuilder.CreateIndex(
                name: "ix_membership_changes_tenant_id_organization_id_state",
                table: "membership_changes",
                columns: new[] { "tenant_id", "organization_id", "state" });

            migrationBuilder.CreateIndex(
                name: "ix_membership_changes_tenant_id_state_created_at",
                table: "membership_changes",
                columns: new[] { "tenant_id", "state", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "email_domain_rules");

            migrationBuilder.DropTable(
                name: "membership_changes");
        }
    }
}
