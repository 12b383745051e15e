using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Search;

/// <summary>
/// One short scalar value of a search document (a number, a boolean, or a string of at most 256 bytes as JSON), so that
/// a sort by a field walks a btree in (tenant, field, value, record) order instead of sorting every match (ADR 10).
/// Derived from <c>search_documents.field_values</c> by statement triggers on that table (migration
/// <c>SearchSortKeys</c>), so every writer of a document keeps its keys without knowing about them. Like
/// <c>search_documents</c> it is a derived copy exempt from row-level security (RowLevelSecurity.SystemTables), read only
/// by PostgresSearchIndex joined to the tenant-scoped documents.
/// </summary>
internal sealed class SearchSortKey
{
    public Guid TenantId { get; set; }

    public Guid RecordId { get; set; }

    public Guid FieldId { get; set; }

    /// <summary>jsonb: the value as in <c>field_values</c> (so it orders exactly as the sort expression does).</summary>
    public required string Value { get; set; }
}

internal sealed class SearchSortKeyConfiguration : IEntityTypeConfiguration<SearchSortKey>
{
    public void Configure(EntityTypeBuilder<SearchSortKey> builder)
    {
        builder.ToTable("search_sort_keys");
        builder.HasKey(k => new { k.TenantId, k.RecordId, k.FieldId });
        builder.Property(k => k.Value).HasColumnType("jsonb");

        // Sort by a field's value with a keyset cursor, and number ranges on the sorted field as index conditions.
        builder.HasIndex(k => new { k.TenantId, k.FieldId, k.Value, k.RecordId });
    }
}
