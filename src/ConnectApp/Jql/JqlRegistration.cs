using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Jql;

/// <summary>
/// What the app last registered as the site's JQL aliases (a hash of the module; no row: nothing), and the labels of the
/// searchable options the issues were stamped with. A field change that leaves both as they were costs no Jira call;
/// an install forgets them, because an uninstall removes an app's dynamic modules.
/// </summary>
internal sealed class JqlRegistration
{
    public Guid TenantId { get; set; }

    public required string ModuleHash { get; set; }

    /// <summary>The searchable options' labels the issues were stamped with (<see cref="JqlProperty.Labels"/>, JSON kept as text: compared as written, where jsonb would re-serialize it); null before it was kept.</summary>
    public string? Labels { get; set; }

    public DateTimeOffset RegisteredAt { get; set; }
}

internal sealed class JqlRegistrationConfiguration : IEntityTypeConfiguration<JqlRegistration>
{
    public void Configure(EntityTypeBuilder<JqlRegistration> builder)
    {
        builder.ToTable("jql_registrations");
        builder.HasKey(r => r.TenantId);
        builder.Property(r => r.ModuleHash).HasMaxLength(64);
        builder.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>An install (or reinstall) forgets what was registered and queues the registration, in the install's transaction.</summary>
internal sealed class JqlOnInstall(AppDbContext db) : ITenantLifecycleObserver
{
    public async Task ChangedAsync(Guid tenantId, string eventType, CancellationToken cancellationToken)
    {
        if (eventType != "installed")
        {
            return;
        }

        await db.Set<JqlRegistration>().Where(r => r.TenantId == tenantId).ExecuteDeleteAsync(cancellationToken);
        OutboxInterceptor.Add(db, new JqlAliasesChanged(tenantId));
    }
}
