using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Fields;

namespace ConnectApp.Records;

/// <summary>A record as a caller may see it: values keyed by field key, customers only the fields visible to them.</summary>
internal sealed record RecordView(
    Guid Id, RecordEntity Entity, string ExternalId, string Name, string? Email, int Version, IReadOnlyList<Guid>? OrganizationIds, JsonObject Values, DateTimeOffset? RemovedAt = null)
{
    public static RecordView From(Record r, FieldCatalog catalog, AppRole role, IReadOnlyList<Guid>? organizationIds = null)
    {
        var stored = JsonNode.Parse(r.ValuesJson)!.AsObject();
        var values = new JsonObject();
        foreach (var field in FieldView.Visible(catalog, role))
        {
            if (stored[field.Id.ToString()] is { } value)
            {
                values[field.Key] = value.DeepClone();
            }
        }

        return new RecordView(r.Id, r.Entity, r.ExternalId, r.Name, role == AppRole.Customer ? null : r.Email, r.Version, organizationIds, values, r.RemovedAt);
    }
}
