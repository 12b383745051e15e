using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Retention;

internal enum PurgeReason
{
    /// <summary>Uninstalled for RETENTION_DAYS.</summary>
    Retention,

    /// <summary>No lifecycle callback and no authenticated request for INACTIVITY_DAYS.</summary>
    Inactivity,

    /// <summary>A site admin asked (the app stays installed, empty).</summary>
    Request,
}

internal enum PurgeState
{
    /// <summary>Deletion on request, waiting for the admin's confirmation (never runs without it).</summary>
    AwaitingConfirmation,

    Requested,

    Running,

    Done,

    /// <summary>Not run: the tenant was reinstalled or used again, or the confirmation expired.</summary>
    Cancelled,
}

/// <summary>
/// One purge of a tenant, and afterwards its record: the clientKey's SHA-256 (never the key, the site or a person),
/// the dates and the rows deleted per table. It has no <c>tenant_id</c> column on purpose: it must outlive the tenant,
/// and the purge (which deletes from every table with <c>tenant_id</c>) must not delete it.
/// </summary>
internal sealed class TenantPurge
{
    public Guid Id { get; set; }

    public Guid PurgedTenantId { get; set; }

    public required string ClientKeyHash { get; set; }

    public PurgeReason Reason { get; set; }

    public PurgeState State { get; set; }

    public DateTimeOffset? UninstalledAt { get; set; }

    public DateTimeOffset DueAt { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>JSON object: table name → rows deleted (updated in each batch's own transaction, so exact after a crash).</summary>
    public string RowCounts { get; set; } = "{}";

    public string? Note { get; set; }

    /// <summary>Deletion on request: SHA-256 of the one-time confirmation token, and until when it is accepted.</summary>
    public string? ConfirmationHash { get; set; }

    public DateTimeOffset? ConfirmationExpiresAt { get; set; }

    public static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}

internal sealed class TenantPurgeConfiguration : IEntityTypeConfiguration<TenantPurge>
{
    public void Configure(EntityTypeBuilder<TenantPurge> builder)
    {
        builder.ToTable("tenant_purges");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.ClientKeyHash).HasMaxLength(64);
        builder.Property(p => p.Reason).HasConversion<string>().HasMaxLength(16);
        builder.Property(p => p.State).HasConversion<string>().HasMaxLength(24);
        builder.Property(p => p.RowCounts).HasColumnType("jsonb");
        builder.Property(p => p.Note).HasMaxLength(200);
        builder.Property(p => p.ConfirmationHash).HasMaxLength(64);
        builder.HasIndex(p => new { p.PurgedTenantId, p.RequestedAt });
        builder.HasIndex(p => p.FinishedAt);
        // At most one purge queued or running per tenant: the Quartz trigger, the sweep and a redelivery cannot start a second.
        builder.HasIndex(p => p.PurgedTenantId).IsUnique().HasFilter("state IN ('Requested', 'Running')").HasDatabaseName("ux_tenant_purges_open");
    }
}
