using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Persistence;

/// <summary>
/// The system of record. Each feature configures its own tables (an <c>IEntityTypeConfiguration</c> beside its
/// entity, found by assembly scan) and reads them with <c>db.Set&lt;T&gt;()</c>, so this class names no feature and
/// Persistence depends on none. Tenant-owned tables carry <c>tenant_id</c> and are guarded by row-level security.
/// </summary>
internal sealed class AppDbContext(DbContextOptions<AppDbContext> options) : DbContext(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);

        // EF names a foreign key after the principal's default table name, which without DbSet properties is the class
        // name (fk_records_tenant_…); name them after the real tables, as the existing constraints are.
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var key in entity.GetForeignKeys())
            {
                key.SetConstraintName($"fk_{entity.GetTableName()}_{key.PrincipalEntityType.GetTableName()}_{string.Join('_', key.Properties.Select(p => p.GetColumnName()))}");
            }
        }
    }
}
