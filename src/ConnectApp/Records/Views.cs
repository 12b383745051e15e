using System.Text.Json.Nodes;
using ConnectApp.Fields;
using ConnectApp.Roles;

namespace ConnectApp.Records;

internal sealed record OptionView(Guid Id, string Label, int Position, bool Retired);

internal sealed record FieldView(
    Guid Id, RecordEntity Entity, string Key, string Label, string? Description, FieldType Type, bool Required, FieldVisibility Visibility,
    int Position, bool Archived, decimal? Min, decimal? Max, int? Decimals, int Version, IReadOnlyList<OptionView>? Options)
{
    public static FieldView From(FieldDefinition f) => new(
        f.Id, f.Entity, f.Key, f.Label, f.Description, f.Type, f.Required, f.Visibility, f.Position, f.Archived, f.Min, f.Max, f.Decimals, f.Version,
        f.Type.HasOptions() ? f.Options.OrderBy(o => o.Position).Select(o => new OptionView(o.Id, o.Label, o.Position, o.Retired)).ToList() : null);
}

/// <summary>A record as a caller may see it: values keyed by field key, customers only the fields visible to them.</summary>
internal sealed record RecordView(
    Guid Id, RecordEntity Entity, string ExternalId, string Name, string? Email, int Version, IReadOnlyList<Guid>? OrganizationIds, JsonObject Values)
{
    public static RecordView From(Record r, FieldCatalog catalog, AppRole role, IReadOnlyList<Guid>? organizationIds = null)
    {
        var stored = JsonNode.Parse(r.ValuesJson)!.AsObject();
        var values = new JsonObject();
        foreach (var field in Visible(catalog, role))
        {
            if (stored[field.Id.ToString()] is { } value)
            {
                values[field.Key] = value.DeepClone();
            }
        }

        return new RecordView(r.Id, r.Entity, r.ExternalId, r.Name, role == AppRole.Customer ? null : r.Email, r.Version, organizationIds, values);
    }

    public static IEnumerable<FieldDefinition> Visible(FieldCatalog catalog, AppRole role) =>
        catalog.Active.Where(f => role != AppRole.Customer || f.Visibility != FieldVisibility.Agents);
}

internal sealed record Page<T>(IReadOnlyList<T> Values, string? NextCursor);
