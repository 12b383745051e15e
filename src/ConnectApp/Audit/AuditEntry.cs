using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Audit;

/// <summary>
/// One change, written in the same transaction as the change itself: who (accountId, or API token), what
/// (definition or record, field), old and new value, when. Tenant data: purged with the tenant.
/// </summary>
internal sealed class AuditEntry
{
    public long Id { get; set; }

    public Guid TenantId { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>accountId of the user, or "token:{id}" for an API token (see Api/Actors); background work records the actor who started it.</summary>
    public required string Actor { get; set; }

    /// <summary>value.set, value.restored, field.created, field.updated, field.type_changed, option.added, ...</summary>
    public required string Action { get; set; }

    /// <summary>organization, customer or field.</summary>
    public required string Subject { get; set; }

    public Guid? RecordId { get; set; }

    public Guid? FieldId { get; set; }

    /// <summary>jsonb, null when there was none.</summary>
    public string? OldValue { get; set; }

    /// <summary>jsonb, null when cleared.</summary>
    public string? NewValue { get; set; }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("audit_entries");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Actor).HasMaxLength(160);
        builder.Property(a => a.Action).HasMaxLength(40);
        builder.Property(a => a.Subject).HasMaxLength(20);
        builder.Property(a => a.OldValue).HasColumnType("jsonb");
        builder.Property(a => a.NewValue).HasColumnType("jsonb");
        builder.HasIndex(a => new { a.TenantId, a.RecordId, a.Id });
        builder.HasIndex(a => new { a.TenantId, a.FieldId, a.Id });
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(a => a.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
