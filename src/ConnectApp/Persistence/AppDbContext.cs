using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Persistence;

/// <summary>The system of record. Tenant-owned tables carry <c>tenant_id</c> and are guarded by row-level security.</summary>
internal sealed class AppDbContext(DbContextOptions<AppDbContext> options) : DbContext(options)
{
    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<TenantLifecycleEvent> TenantLifecycleEvents => Set<TenantLifecycleEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
}
