using ConnectApp.Fields;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Views;

/// <summary>
/// An agent's named directory view: a search (free text, field filters, sort, records removed from JSM shown or not)
/// and the columns to show. Private to its owner unless <see cref="Shared"/>, when every agent of the site can pick it
/// (only the owner changes it; the owner or a site admin deletes it).
/// </summary>
internal sealed class SavedView
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    /// <summary>The accountId of the agent who saved it (<c>closed-account</c> once that account is erased).</summary>
    public required string OwnerAccountId { get; set; }

    public RecordEntity Entity { get; set; }

    public required string Name { get; set; }

    public bool Shared { get; set; }

    /// <summary>The view's search and columns as the API takes them (<see cref="ViewsApi.ViewDefinition"/>), validated when saved.</summary>
    public required string DefinitionJson { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class SavedViewConfiguration : IEntityTypeConfiguration<SavedView>
{
    public void Configure(EntityTypeBuilder<SavedView> builder)
    {
        builder.ToTable("saved_views");
        builder.HasKey(v => v.Id);
        builder.Property(v => v.OwnerAccountId).HasMaxLength(128);
        builder.Property(v => v.Entity).HasConversion<string>().HasMaxLength(16);
        builder.Property(v => v.Name).HasMaxLength(ViewsApi.MaxNameLength);
        builder.Property(v => v.DefinitionJson).HasColumnType("jsonb");
        // A person's names are unique per tab; views of erased accounts (all owned by closed-account) may share a name.
        builder.HasIndex(v => new { v.TenantId, v.Entity, v.OwnerAccountId, v.Name }).IsUnique().HasFilter("owner_account_id <> 'closed-account'");
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(v => v.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>The directory columns an agent chose for organizations or customers (kept here: the app's iframe may not use browser storage).</summary>
internal sealed class DirectoryColumns
{
    public Guid TenantId { get; set; }

    public required string AccountId { get; set; }

    public RecordEntity Entity { get; set; }

    /// <summary>Field keys, in the order shown.</summary>
    public required string ColumnsJson { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class DirectoryColumnsConfiguration : IEntityTypeConfiguration<DirectoryColumns>
{
    public void Configure(EntityTypeBuilder<DirectoryColumns> builder)
    {
        builder.ToTable("directory_columns");
        builder.HasKey(c => new { c.TenantId, c.AccountId, c.Entity });
        builder.Property(c => c.AccountId).HasMaxLength(128);
        builder.Property(c => c.Entity).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.ColumnsJson).HasColumnType("jsonb");
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(c => c.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
