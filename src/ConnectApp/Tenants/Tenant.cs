using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Tenants;

/// <summary>An installation of the app on a Jira site, keyed by Jira's clientKey.</summary>
internal sealed class Tenant
{
    public Guid Id { get; set; }

    public required string ClientKey { get; set; }

    public required string BaseUrl { get; set; }

    public string? DisplayUrl { get; set; }

    public string? DisplayUrlServicedeskHelpCenter { get; set; }

    public string? ProductType { get; set; }

    public string? Description { get; set; }

    public string? ServerVersion { get; set; }

    public string? PluginsVersion { get; set; }

    public string? OauthClientId { get; set; }

    public string? InstallationId { get; set; }

    public string? EntitlementId { get; set; }

    public string? EntitlementNumber { get; set; }

    /// <summary>AES-256-GCM of the shared secret (see SecretProtector); never the plaintext.</summary>
    public required byte[] SharedSecretCiphertext { get; set; }

    public required string SharedSecretKeyId { get; set; }

    public bool Enabled { get; set; }

    public DateTimeOffset InstalledAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? UninstalledAt { get; set; }

    /// <summary>When the accountIds the app stores for this site were last reported to Atlassian (personal data reporting).</summary>
    public DateTimeOffset? AccountsReportedAt { get; set; }

    /// <summary>The reporting interval Atlassian asked for (its <c>Cycle-Period</c> header), in seconds; null: the default, 7 days.</summary>
    public int? AccountsReportCycleSeconds { get; set; }

    /// <summary>
    /// The last authenticated request (within an hour: see <see cref="TenantActivity"/>); with <see cref="UpdatedAt"/>
    /// (the last lifecycle callback) it tells the inactivity purge when the site last used the app.
    /// </summary>
    public DateTimeOffset? LastSeenAt { get; set; }
}

internal sealed class TenantConfiguration : IEntityTypeConfiguration<Tenant>
{
    public void Configure(EntityTypeBuilder<Tenant> builder)
    {
        builder.ToTable("tenants");
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).HasDefaultValueSql("gen_random_uuid()");
        builder.HasIndex(t => t.ClientKey).IsUnique();
        builder.HasIndex(t => t.InstallationId); // Forge Invocation Tokens name the installation, not the clientKey
        builder.Property(t => t.ClientKey).HasMaxLength(255);
        builder.Property(t => t.BaseUrl).HasMaxLength(2048);
        builder.Property(t => t.SharedSecretKeyId).HasMaxLength(32);
    }
}

/// <summary>One lifecycle callback received for a tenant: the install history an admin or support can read.</summary>
internal sealed class TenantLifecycleEvent
{
    public long Id { get; set; }

    public Guid TenantId { get; set; }

    public required string EventType { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    public string? PluginsVersion { get; set; }

    public string? ServerVersion { get; set; }
}

internal sealed class TenantLifecycleEventConfiguration : IEntityTypeConfiguration<TenantLifecycleEvent>
{
    public void Configure(EntityTypeBuilder<TenantLifecycleEvent> builder)
    {
        builder.ToTable("tenant_lifecycle_events");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.EventType).HasMaxLength(32);
        builder.HasIndex(e => new { e.TenantId, e.OccurredAt });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(e => e.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
