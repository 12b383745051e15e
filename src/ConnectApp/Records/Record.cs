using ConnectApp.Fields;
using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Records;

/// <summary>
/// A JSM organization or customer as the app keeps it: its JSM identity (organization id, or accountId), a
/// display name, and the values of its custom fields as one JSON object keyed by field id.
/// </summary>
internal sealed class Record
{
    /// <summary>A new record at version 1; the caller adds it to the unit of work.</summary>
    public static Record New(Guid tenantId, RecordEntity entity, string externalId, string name, string? email, string valuesJson, DateTimeOffset now) => new()
    {
        Id = Guid.NewGuid(),
        TenantId = tenantId,
        Entity = entity,
        ExternalId = externalId,
        Name = name,
        Email = email,
        ValuesJson = valuesJson,
        Version = 1,
        CreatedAt = now,
        UpdatedAt = now,
    };

    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public RecordEntity Entity { get; set; }

    /// <summary>JSM organization id, or the customer's Atlassian accountId.</summary>
    public required string ExternalId { get; set; }

    public required string Name { get; set; }

    /// <summary>Customers only. Personal data: redacted from logs, removed when Atlassian reports the account closed.</summary>
    public string? Email { get; set; }

    /// <summary>jsonb: { "&lt;field id&gt;": value }.</summary>
    public string ValuesJson { get; set; } = "{}";

    /// <summary>Optimistic concurrency: every change increments it; writers with an older one get 412.</summary>
    public int Version { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// When the JSM directory sync first saw this record in JSM (created or adopted it); null for a record that only
    /// exists in the app. Only such records can be marked removed by a sync.
    /// </summary>
    public DateTimeOffset? SyncedAt { get; set; }

    /// <summary>When a sync found the record gone from JSM; null while it exists there. Values are kept; a record that comes back is restored.</summary>
    public DateTimeOffset? RemovedAt { get; set; }
}

/// <summary>Column lengths of a record, used by the table definition and by every validator (API, bulk, import).</summary>
internal static class RecordLimits
{
    /// <summary>A JSM organization id or an Atlassian accountId (128 is Atlassian's documented accountId maximum).</summary>
    public const int ExternalId = 128;

    public const int Name = 255;

    /// <summary>RFC 5321's limit on a forward path.</summary>
    public const int Email = 254;
}

/// <summary>A customer's membership of an organization.</summary>
internal sealed class Membership
{
    public Guid TenantId { get; set; }

    public Guid CustomerId { get; set; }

    public Guid OrganizationId { get; set; }
}

internal sealed class RecordConfiguration : IEntityTypeConfiguration<Record>
{
    public void Configure(EntityTypeBuilder<Record> builder)
    {
        builder.ToTable("records");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Entity).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.ExternalId).HasMaxLength(RecordLimits.ExternalId);
        builder.Property(r => r.Name).HasMaxLength(RecordLimits.Name);
        builder.Property(r => r.Email).HasMaxLength(RecordLimits.Email);
        builder.Property(r => r.ValuesJson).HasColumnName("field_values").HasColumnType("jsonb");
        builder.Property(r => r.Version).IsConcurrencyToken();
        builder.HasIndex(r => new { r.TenantId, r.Entity, r.ExternalId }).IsUnique();
        builder.HasIndex(r => new { r.TenantId, r.Entity, r.Name, r.Id });
        builder.HasOne<Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class MembershipConfiguration : IEntityTypeConfiguration<Membership>
{
    public void Configure(EntityTypeBuilder<Membership> builder)
    {
        builder.ToTable("memberships");
        builder.HasKey(m => new { m.TenantId, m.CustomerId, m.OrganizationId });
        builder.HasIndex(m => new { m.TenantId, m.OrganizationId });
        builder.HasOne<Record>().WithMany().HasForeignKey(m => m.CustomerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Record>().WithMany().HasForeignKey(m => m.OrganizationId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// Told about a record being created through <see cref="RecordWriter.CreateAsync"/>, before it is saved: what it adds to
/// the scope's unit of work commits with the record (Memberships: email-domain rules add a new customer to organizations).
/// </summary>
internal interface IRecordCreationObserver
{
    Task CreatingAsync(Api.Caller caller, Record record, CancellationToken cancellationToken);
}
