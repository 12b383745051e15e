using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectApp.ApiTokens;
using ConnectApp.Audit;
using ConnectApp.Csv;
using ConnectApp.Fields;
using ConnectApp.Memberships;
using ConnectApp.Records;
using ConnectApp.Views;

namespace ConnectApp.Export;

/// <summary>
/// The export's shape, for the OpenAPI document (the export itself is streamed section by section, each element
/// serialized from the types below, so what is written and what is documented cannot drift apart).
/// </summary>
internal sealed record ExportDocument(
    string Format,
    DateTimeOffset ExportedAt,
    ExportedSite Site,
    ExportCounts Counts,
    IReadOnlyList<ExportedField> Fields,
    IReadOnlyList<ExportedRecord> Organizations,
    IReadOnlyList<ExportedRecord> Customers,
    IReadOnlyList<ExportedMembership> Memberships,
    IReadOnlyList<ExportedEmailRule> EmailRules,
    IReadOnlyList<ExportedMembershipChange> MembershipChanges,
    IReadOnlyList<ExportedApiToken> ApiTokens,
    IReadOnlyList<ExportedImport> Imports,
    IReadOnlyList<ExportedAuditEntry> AuditLog,
    IReadOnlyList<ExportedSavedView> SavedViews,
    IReadOnlyList<ExportedDirectoryColumns> DirectoryColumns);

internal sealed record ExportedSite(string BaseUrl, DateTimeOffset InstalledAt);

/// <summary>Rows per section, written before the sections so a reader of the stream can show progress.</summary>
internal sealed record ExportCounts(int Fields, int Organizations, int Customers, int Memberships, int EmailRules, int MembershipChanges, int ApiTokens, int Imports, int AuditLog, int SavedViews, int DirectoryColumns);

internal sealed record ExportedOption(Guid Id, string Label, int Position, bool Retired);

internal sealed record ExportedField(
    Guid Id, RecordEntity Entity, string Key, string Label, string? Description, FieldType Type, bool Required, FieldVisibility Visibility,
    int Position, bool Archived, decimal? Min, decimal? Max, int? Decimals, int Version, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    IReadOnlyList<ExportedOption> Options, bool JqlSearchable = false)
{
    public static ExportedField From(FieldDefinition f) => new(
        f.Id, f.Entity, f.Key, f.Label, f.Description, f.Type, f.Required, f.Visibility, f.Position, f.Archived, f.Min, f.Max, f.Decimals,
        f.Version, f.CreatedAt, f.UpdatedAt, [.. f.Options.OrderBy(o => o.Position).Select(o => new ExportedOption(o.Id, o.Label, o.Position, o.Retired))], f.JqlSearchable);
}

/// <summary>
/// An organization or customer; values keyed by field key (select values are option ids, listed under fields); email is
/// for customers; removedAt is set when the directory sync found it gone from JSM (its values are kept).
/// </summary>
internal sealed record ExportedRecord(Guid Id, string JsmId, string Name, string? Email, int Version, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? RemovedAt, JsonObject Values)
{
    public static ExportedRecord From(Record r, IReadOnlyDictionary<string, string> fieldKeys)
    {
        var values = new JsonObject();
        foreach (var (fieldId, value) in JsonNode.Parse(r.ValuesJson)!.AsObject().OrderBy(v => fieldKeys.GetValueOrDefault(v.Key, v.Key), StringComparer.Ordinal))
        {
            values[fieldKeys.GetValueOrDefault(fieldId, fieldId)] = value?.DeepClone();
        }

        return new ExportedRecord(r.Id, r.ExternalId, r.Name, r.Email, r.Version, r.CreatedAt, r.UpdatedAt, r.RemovedAt, values);
    }
}

internal sealed record ExportedMembership(Guid CustomerId, Guid OrganizationId);

/// <summary>An email-domain rule: customers whose email is at <c>domain</c> (<c>*.x</c>: any subdomain of x) belong to the organization.</summary>
internal sealed record ExportedEmailRule(Guid Id, string Domain, Guid OrganizationId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ExportedEmailRule From(EmailDomainRule r) => new(r.Id, r.Domain, r.OrganizationId, r.CreatedAt, r.UpdatedAt);
}

/// <summary>A membership change made in the app and how its write-back to JSM went.</summary>
internal sealed record ExportedMembershipChange(
    Guid Id, Guid CustomerId, Guid OrganizationId, MembershipOperation Operation, WriteBackState State, int Attempts, string? Reason, Guid? RuleId, string? Actor,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? CompletedAt)
{
    public static ExportedMembershipChange From(MembershipChange c) =>
        new(c.Id, c.CustomerId, c.OrganizationId, c.Operation, c.State, c.Attempts, c.Reason, c.RuleId, c.Actor, c.CreatedAt, c.UpdatedAt, c.CompletedAt);
}

/// <summary>An API token's metadata: its secret is never stored (ADR 5), its hash is not exported.</summary>
internal sealed record ExportedApiToken(Guid Id, string Name, IReadOnlyList<string> Scopes, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public static ExportedApiToken From(ApiToken t) => new(t.Id, t.Name, t.Scopes, t.CreatedBy, t.CreatedAt, t.LastUsedAt, t.RevokedAt);
}

internal sealed record ExportedImport(Guid Id, RecordEntity Entity, ImportStatus Status, int? TotalRows, int DoneRows, int FailedRows, long FileBytes, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt)
{
    public static ExportedImport From(ImportJob j) => new(j.Id, j.Entity, j.Status, j.TotalRows, j.DoneRows, j.FailedRows, j.FileBytes, j.CreatedBy, j.CreatedAt, j.FinishedAt);
}

internal sealed record ExportedAuditEntry(long Id, DateTimeOffset OccurredAt, string Actor, string Action, string Subject, Guid? RecordId, Guid? FieldId, JsonElement? OldValue, JsonElement? NewValue)
{
    public static ExportedAuditEntry From(AuditEntry a) => new(a.Id, a.OccurredAt, a.Actor, a.Action, a.Subject, a.RecordId, a.FieldId, Parse(a.OldValue), Parse(a.NewValue));

    private static JsonElement? Parse(string? json) => json is null ? null : JsonElement.Parse(json);
}

/// <summary>An agent's saved directory view: its search and columns as the views API takes them.</summary>
internal sealed record ExportedSavedView(Guid Id, string OwnerAccountId, RecordEntity Entity, string Name, bool Shared, JsonElement Definition, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ExportedSavedView From(SavedView v) =>
        new(v.Id, v.OwnerAccountId, v.Entity, v.Name, v.Shared, JsonDocument.Parse(v.DefinitionJson).RootElement.Clone(), v.CreatedAt, v.UpdatedAt);
}

/// <summary>An agent's directory column choice for one tab (field keys, in order).</summary>
internal sealed record ExportedDirectoryColumns(string AccountId, RecordEntity Entity, IReadOnlyList<string> Columns)
{
    public static ExportedDirectoryColumns From(DirectoryColumns c) => new(c.AccountId, c.Entity, JsonSerializer.Deserialize<List<string>>(c.ColumnsJson) ?? []);
}
