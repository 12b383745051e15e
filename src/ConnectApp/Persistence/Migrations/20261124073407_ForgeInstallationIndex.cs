using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectApp.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ForgeInstallationIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_tenants_installation_id",
                table: "tenants",
                column: "installation_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_tenants_installation_id",
                table: "tenants");
        }
    }
}
