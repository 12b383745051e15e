using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Fields;

/// <summary>Which JSM records a field belongs to.</summary>
internal enum RecordEntity
{
    Organization,
    Customer,
}

/// <summary>Who sees a field: agents only, customers read-only, or customers may edit.</summary>
internal enum FieldVisibility
{
    Agents,
    CustomersView,
    CustomersEdit,
}

/// <summary>A custom field an admin defined for organizations or customers.</summary>
internal sealed class FieldDefinition
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public RecordEntity Entity { get; set; }

    /// <summary>Immutable, unique per tenant and entity (archived fields keep theirs): the name in APIs, CSV and JQL.</summary>
    public required string Key { get; set; }

    public required string Label { get; set; }

    public string? Description { get; set; }

    public FieldType Type { get; set; }

    public bool Required { get; set; }

    public FieldVisibility Visibility { get; set; }

    public int Position { get; set; }

    public bool Archived { get; set; }

    /// <summary>
    /// An admin made this field searchable in JQL: its values go into the JQL property of the issues the customer (or the
    /// organization's members) reported, which any user of the site can read.
    /// </summary>
    public bool JqlSearchable { get; set; }

    /// <summary>Number settings (min, max, decimals); null for other types.</summary>
    public decimal? Min { get; set; }

    public decimal? Max { get; set; }

    public int? Decimals { get; set; }

    public int Version { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<FieldOption> Options { get; set; } = [];
}

/// <summary>A choice of a select field. Values store the option id, so renames keep values; retired options stay readable.</summary>
internal sealed class FieldOption
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid FieldId { get; set; }

    public required string Label { get; set; }

    public int Position { get; set; }

    public bool Retired { get; set; }
}

internal sealed class FieldDefinitionConfiguration : IEntityTypeConfiguration<FieldDefinition>
{
    public void Configure(EntityTypeBuilder<FieldDefinition> builder)
    {
        builder.ToTable("field_definitions");
        builder.HasKey(f => f.Id);
        builder.Property(f => f.Entity).HasConversion<string>().HasMaxLength(16);
        builder.Property(f => f.Type).HasConversion<string>().HasMaxLength(16);
        builder.Property(f => f.Visibility).HasConversion<string>().HasMaxLength(16);
        builder.Property(f => f.Key).HasMaxLength(64);
        builder.Property(f => f.Label).HasMaxLength(255);
        builder.Property(f => f.Description).HasMaxLength(2000);
        builder.Property(f => f.Version).IsConcurrencyToken();
        builder.HasIndex(f => new { f.TenantId, f.Entity, f.Key }).IsUnique();
        builder.HasIndex(f => new { f.TenantId, f.Entity, f.Position });
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(f => f.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(f => f.Options).WithOne().HasForeignKey(o => o.FieldId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class FieldOptionConfiguration : IEntityTypeConfiguration<FieldOption>
{
    public void Configure(EntityTypeBuilder<FieldOption> builder)
    {
        builder.ToTable("field_options");
        builder.HasKey(o => o.Id);
        builder.Property(o => o.Label).HasMaxLength(255);
        builder.HasIndex(o => new { o.TenantId, o.FieldId, o.Position });
    }
}
