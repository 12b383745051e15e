using ConnectApp.Api;

namespace ConnectApp.Fields;

internal sealed record OptionView(Guid Id, string Label, int Position, bool Retired);

/// <summary>A field definition as the API shows it.</summary>
internal sealed record FieldView(
    Guid Id, RecordEntity Entity, string Key, string Label, string? Description, FieldType Type, bool Required, FieldVisibility Visibility,
    int Position, bool Archived, decimal? Min, decimal? Max, int? Decimals, int Version, IReadOnlyList<OptionView>? Options, bool JqlSearchable = false)
{
    public static FieldView From(FieldDefinition f) => new(
        f.Id, f.Entity, f.Key, f.Label, f.Description, f.Type, f.Required, f.Visibility, f.Position, f.Archived, f.Min, f.Max, f.Decimals, f.Version,
        f.Type.HasOptions() ? f.Options.OrderBy(o => o.Position).Select(o => new OptionView(o.Id, o.Label, o.Position, o.Retired)).ToList() : null, f.JqlSearchable);

    /// <summary>The active fields <paramref name="role"/> may see: customers never see agent-only fields.</summary>
    public static IEnumerable<FieldDefinition> Visible(FieldCatalog catalog, AppRole role) =>
        catalog.Active.Where(f => role != AppRole.Customer || f.Visibility != FieldVisibility.Agents);
}
