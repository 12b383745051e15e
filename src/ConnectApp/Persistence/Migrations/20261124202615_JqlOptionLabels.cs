using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectApp.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class JqlOptionLabels : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "labels",
                table: "jql_registrations",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "labels",
                table: "jql_registrations");
        }
    }
}
