using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace ConnectApp.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ConsistentForeignKeyNames : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_import_errors_import_job_job_id",
                table: "import_errors");

            migrationBuilder.DropForeignKey(
                name: "fk_import_file_chunks_import_job_job_id",
                table: "import_file_chunks");

            migrationBuilder.AddForeignKey(
                name: "fk_import_errors_import_jobs_job_id",
                table: "import_errors",
                column: "job_id",
                principalTable: "import_jobs",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "fk_import_file_chunks_import_jobs_job_id",
                table: "import_file_chunks",
                column: "job_id",
                principalTable: "import_jobs",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_import_errors_import_jobs_job_id",
                table: "import_errors");

            migrationBuilder.DropForeignKey(
                name: "fk_import_file_chunks_import_jobs_job_id",
                table: "import_file_chunks");

            migrationBuilder.AddForeignKey(
                name: "fk_import_errors_import_job_job_id",
                table: "import_errors",
                column: "job_id",
                principalTable: "import_jobs",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "fk_import_file_chunks_import_job_job_id",
                table: "import_file_chunks",
                column: "job_id",
                principalTable: "import_jobs",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
