using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Persistence;

/// <summary>The system of record. Tenant-owned tables carry <c>tenant_id</c> and are guarded by row-level security.</summary>
internal sealed class AppDbContext(DbContextOptions<AppDbContext> options) : DbContext(options)
{
    public DbSet<Tenant> Tenants => Set<Tenant>();

    public DbSet<TenantLifecycleEvent> TenantLifecycleEvents => Set<TenantLifecycleEvent>();

    public DbSet<Fields.FieldDefinition> FieldDefinitions => Set<Fields.FieldDefinition>();

    public DbSet<Fields.FieldOption> FieldOptions => Set<Fields.FieldOption>();

    public DbSet<Records.Record> Records => Set<Records.Record>();

    public DbSet<Records.Membership> Memberships => Set<Records.Membership>();

    public DbSet<Audit.AuditEntry> AuditEntries => Set<Audit.AuditEntry>();

    public DbSet<ApiTokens.ApiToken> ApiTokens => Set<ApiTokens.ApiToken>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
}
