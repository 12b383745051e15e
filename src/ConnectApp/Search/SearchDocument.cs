using ConnectApp.Fields;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using NpgsqlTypes;

namespace ConnectApp.Search;

/// <summary>
/// The PostgreSQL engine's search document: one row per organization or customer, maintained by the mirror consumer
/// (never by the request that changed the record), so it has the same pipeline and the same lag as Elasticsearch.
/// Tenant-owned: row-level security like every tenant table.
/// </summary>
internal sealed class SearchDocument
{
    public Guid TenantId { get; set; }

    public Guid RecordId { get; set; }

    public RecordEntity Entity { get; set; }

    public required string ExternalId { get; set; }

    public required string Name { get; set; }

    /// <summary>lower(name) in the "C" collation: the sort key (byte order, as Elasticsearch sorts a keyword).</summary>
    public required string NameSort { get; set; }

    public string? Email { get; set; }

    /// <summary>lower(name, email, external id) joined by newlines: the trigram-indexed haystack for partial matches.</summary>
    public required string SearchText { get; set; }

    /// <summary>Words of the name and of text-like field values ('simple' configuration).</summary>
    public NpgsqlTsVector? TextVector { get; set; }

    /// <summary>Customers: the organizations they belong to.</summary>
    public Guid[] OrganizationIds { get; set; } = [];

    /// <summary>jsonb { "&lt;field id&gt;": value }, as stored on the record.</summary>
    public string FieldValues { get; set; } = "{}";

    /// <summary>The record version this document shows; an older one never overwrites a newer one.</summary>
    public int Version { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When the mirror wrote it.</summary>
    public DateTimeOffset IndexedAt { get; set; }
}

internal sealed class SearchDocumentConfiguration : IEntityTypeConfiguration<SearchDocument>
{
    public void Configure(EntityTypeBuilder<SearchDocument> builder)
    {
        builder.ToTable("search_documents");
        builder.HasKey(d => new { d.TenantId, d.RecordId });
        builder.Property(d => d.Entity).HasConversion<string>().HasMaxLength(16);
        builder.Property(d => d.ExternalId).HasMaxLength(128);
        builder.Property(d => d.Name).HasMaxLength(255);
        builder.Property(d => d.NameSort).HasMaxLength(255).UseCollation("C");
        builder.Property(d => d.Email).HasMaxLength(254);
        builder.Property(d => d.FieldValues).HasColumnType("jsonb");

        // Sort by name with a keyset cursor: (tenant, entity, name, id) in index order.
        builder.HasIndex(d => new { d.TenantId, d.Entity, d.NameSort, d.RecordId });

        // Partial names, emails and ids: LIKE '%…%' through trigrams.
        builder.HasIndex(d => d.SearchText).HasMethod("gin").HasOperators("gin_trgm_ops");
        builder.HasIndex(d => d.TextVector).HasMethod("gin");

        // Equality filters on values (select, multi-select, checkbox, user, text equals): field_values @> {...}.
        builder.HasIndex(d => d.FieldValues).HasMethod("gin").HasOperators("jsonb_path_ops");

        // Customers of an organization.
        builder.HasIndex(d => d.OrganizationIds).HasMethod("gin");

        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(d => d.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
