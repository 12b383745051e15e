using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Persistence;

/// <summary>
/// The system of record. Each feature configures its own tables (an <c>IEntityTypeConfiguration</c> beside its
/// entity, found by assembly scan) and reads them with <c>db.Set&lt;T&gt;()</c>, so this class names no feature and
/// Persistence depends on none. Tenant-owned tables carry <c>tenant_id</c> and are guarded by row-level security.
/// The options (and so the interceptors) are built once for the process; what differs per unit of work, the tenant,
/// travels with the context: <see cref="Tenant"/> is the scope's <see cref="TenantScope"/>, which
/// <see cref="TenantConnectionInterceptor"/> reads on every connection the context opens.
/// </summary>
internal sealed class AppDbContext(DbContextOptions<AppDbContext> options, TenantScope tenant) : DbContext(options)
{
    /// <summary>The tenant this context acts for (the DI scope's); a context made by hand acts for none until told.</summary>
    public TenantScope Tenant { get; } = tenant;

    /// <summary>Set when changes saved by this context touch a table other processes cache (<see cref="TenantChangeInterceptor"/>).</summary>
    internal bool ChangedCachedTables { get; set; }

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
