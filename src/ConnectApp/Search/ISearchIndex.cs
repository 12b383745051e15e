using System.Text.Json.Nodes;
using ConnectApp.Fields;

namespace ConnectApp.Search;

/// <summary>
/// The directory's search index. Two engines implement it (PostgreSQL, the default, and Elasticsearch over its REST
/// API) and one conformance suite tests both. Writers are the mirror consumer and the reindex; readers the search API.
/// Every call names its tenant: an engine never mixes tenants.
/// </summary>
internal interface ISearchIndex
{
    /// <summary>Creates what the engine needs (Elasticsearch: the index and its alias); PostgreSQL's table comes from migrations.</summary>
    Task EnsureCreatedAsync(CancellationToken cancellationToken);

    /// <summary>Adds or replaces documents of one tenant; a document older (lower version) than the one indexed is ignored.</summary>
    Task UpsertAsync(Guid tenantId, IReadOnlyList<IndexedRecord> documents, CancellationToken cancellationToken);

    /// <summary>Removes one record's document.</summary>
    Task DeleteAsync(Guid tenantId, Guid recordId, CancellationToken cancellationToken);

    /// <summary>Removes every document of a tenant (purge, or a reindex that starts from nothing).</summary>
    Task DeleteTenantAsync(Guid tenantId, CancellationToken cancellationToken);

    /// <summary>One record's indexed version, or null; what the fault tests compare with PostgreSQL.</summary>
    Task<IReadOnlyDictionary<Guid, int>> VersionsAsync(Guid tenantId, CancellationToken cancellationToken);

    Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken);
}

/// <summary>A record as the index holds it. <see cref="Words"/>: the text the full-text match looks in (name and text values).</summary>
internal sealed record IndexedRecord(
    Guid RecordId, RecordEntity Entity, string ExternalId, string Name, string? Email, IReadOnlyList<Guid> OrganizationIds,
    JsonObject Values, int Version, DateTimeOffset UpdatedAt, string Words);

internal enum FilterKind
{
    /// <summary>The field holds this value (a multi-select: holds this option).</summary>
    Equals,

    /// <summary>The field holds any of these values (a multi-select: any of these options).</summary>
    AnyOf,

    /// <summary>Text-like fields: the value contains this text, case-insensitively.</summary>
    Contains,

    /// <summary>Number and date fields: within the bounds given.</summary>
    Range,

    Empty,

    NotEmpty,
}

/// <summary>
/// One filter, already checked against the field's definition by the API: <see cref="Values"/> are stored-form JSON
/// values (option ids, numbers, ISO dates, booleans, accountIds); a range's bounds are numbers or ISO dates.
/// </summary>
internal sealed record SearchFilter(Guid FieldId, FieldType Type, FilterKind Kind, IReadOnlyList<JsonNode> Values, string? Text,
    JsonNode? Gte, JsonNode? Gt, JsonNode? Lte, JsonNode? Lt);

/// <summary>Sort by name, or by one field's value (records without a value first when ascending), then by id.</summary>
internal sealed record SearchSort(Guid? FieldId, FieldType? FieldType, bool Descending);

/// <summary>Where the previous page ended: the last hit's sort key (JSON: a string for name, the value or null for a field) and id.</summary>
internal sealed record SearchCursor(JsonNode? Key, Guid Id);

internal sealed record SearchQuery(
    Guid TenantId, RecordEntity Entity, string? Text, IReadOnlyList<SearchFilter> Filters, Guid? MemberOfOrganization,
    IReadOnlyList<Guid>? RecordIds, SearchSort Sort, SearchCursor? After, int Limit);

internal sealed record SearchHit(IndexedRecord Record, JsonNode? SortKey);

/// <summary>
/// <see cref="Total"/>: the number of matches, counted up to <see cref="TotalCap"/>; when there are more,
/// <see cref="TotalExact"/> is false and the total is the cap (a lower bound), as Elasticsearch's track_total_hits does.
/// </summary>
internal sealed record SearchResult(long Total, bool TotalExact, IReadOnlyList<SearchHit> Hits, bool HasMore)
{
    public const int TotalCap = 1_000;
}
