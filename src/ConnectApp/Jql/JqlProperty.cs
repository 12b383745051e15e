using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Fields;

namespace ConnectApp.Jql;

/// <summary>
/// The issue property the app writes (<see cref="PropertyKey"/>) and the JQL aliases that index it. The property holds
/// the reporter's values of the fields an admin made searchable: <c>{"customer": {"tier": "Gold", "seats": 12},
/// "organization": {"region": ["EU", "US"]}}</c> (an organization field holds the values of all the reporter's
/// organizations). Each searchable field is one typed extraction: <c>customer.&lt;key&gt;</c> / <c>organization.&lt;key&gt;</c>.
/// Entity properties are readable by any user of the site who can see the issue: only searchable fields go in.
/// </summary>
internal static class JqlProperty
{
    public const string PropertyKey = "connectapp.values";

    /// <summary>The key of the app's one <c>jiraEntityProperties</c> dynamic module on a site.</summary>
    public const string ModuleKey = "connectapp-jql-aliases";

    /// <summary>The extraction type of a field type (Jira indexes number, date, text, string and user).</summary>
    public static string ExtractionType(FieldType type) => type switch
    {
        FieldType.Number => "number",
        FieldType.Date => "date",
        FieldType.Text or FieldType.Paragraph => "text",
        FieldType.User => "user",
        _ => "string",
    };

    public static string Alias(RecordEntity entity, string fieldKey) => (entity == RecordEntity.Customer ? "customer." : "organization.") + fieldKey;

    public static IEnumerable<FieldDefinition> Searchable(FieldCatalog catalog) => catalog.Active.Where(f => f.JqlSearchable);

    /// <summary>The property for a customer (null: not in the app) and their organizations.</summary>
    public static JsonObject Build(string? customerValues, IReadOnlyList<string> organizationValues, FieldCatalog customerFields, FieldCatalog organizationFields)
    {
        var customer = new JsonObject();
        var stored = customerValues is null ? new JsonObject() : JsonNode.Parse(customerValues)!.AsObject();
        foreach (var field in Searchable(customerFields))
        {
            if (Typed(field, stored[field.Id.ToString()]) is { Count: > 0 } values)
            {
                customer[field.Key] = field.Type == FieldType.MultiSelect ? new JsonArray([.. values]) : values[0];
            }
        }

        var organization = new JsonObject();
        var orgs = organizationValues.Select(v => JsonNode.Parse(v)!.AsObject()).ToList();
        foreach (var field in Searchable(organizationFields))
        {
            var values = orgs.SelectMany(o => Typed(field, o[field.Id.ToString()]) ?? []).DistinctBy(v => v!.ToJsonString()).ToList();
            if (values.Count > 0)
            {
                organization[field.Key] = new JsonArray([.. values]);
            }
        }

        return new JsonObject { ["customer"] = customer, ["organization"] = organization };
    }

    /// <summary>The <c>jiraEntityProperties</c> module for the tenant's searchable fields; null when there are none.</summary>
    public static JsonObject? Module(FieldCatalog customerFields, FieldCatalog organizationFields)
    {
        var extractions = new JsonArray();
        foreach (var field in Searchable(customerFields).Concat(Searchable(organizationFields)))
        {
            var alias = Alias(field.Entity, field.Key);
            extractions.Add(new JsonObject { ["objectName"] = alias, ["type"] = ExtractionType(field.Type), ["alias"] = alias });
        }

        if (extractions.Count == 0)
        {
            return null;
        }

        return new JsonObject
        {
            ["key"] = ModuleKey,
            ["name"] = new JsonObject { ["value"] = "Customer and organization fields" },
            ["entityType"] = "issue",
            ["keyConfigurations"] = new JsonArray(new JsonObject { ["propertyKey"] = PropertyKey, ["extractions"] = extractions }),
        };
    }

    /// <summary>
    /// The option labels the property carries (searchable select and multi-select fields) as <c>{"fieldId/optionId":
    /// "label"}</c>: a renamed option changes the issues' property although the module stays the same.
    /// </summary>
    public static JsonObject Labels(FieldCatalog customerFields, FieldCatalog organizationFields) => new(
        Searchable(customerFields).Concat(Searchable(organizationFields)).Where(f => f.Type is FieldType.Select or FieldType.MultiSelect)
            .SelectMany(f => f.Options.Select(o => KeyValuePair.Create(f.Id + "/" + o.Id, (JsonNode?)JsonValue.Create(o.Label))))
            .OrderBy(p => p.Key, StringComparer.Ordinal));

    /// <summary>The options whose label is not what it was (renamed, or no longer searchable); options added since are not.</summary>
    public static List<(Guid FieldId, Guid OptionId)> Relabelled(JsonObject before, JsonObject now) =>
        [.. before.Where(b => now[b.Key]?.GetValue<string>() != b.Value?.GetValue<string>())
            .Select(b => b.Key.Split('/'))
            .Select(k => (Guid.Parse(k[0]), Guid.Parse(k[1])))];

    public static string Hash(JsonNode node) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(node.ToJsonString())));

    /// <summary>A stored value as Jira indexes it: numbers as numbers, dates as yyyy-MM-dd, options by label, the rest as strings.</summary>
    private static List<JsonNode?>? Typed(FieldDefinition field, JsonNode? value)
    {
        if (value is null)
        {
            return null;
        }

        switch (field.Type)
        {
            case FieldType.Number:
                return [JsonValue.Create(value.GetValue<decimal>())];
            case FieldType.Checkbox:
                return [JsonValue.Create(value.GetValue<bool>() ? "true" : "false")];
            case FieldType.Select:
                return Label(field, value.GetValue<string>()) is { } label ? [JsonValue.Create(label)] : null;
            case FieldType.MultiSelect:
                return [.. value.AsArray().Select(i => Label(field, i!.GetValue<string>())).OfType<string>().Select(l => (JsonNode?)JsonValue.Create(l))];
            default:
                return value.GetValueKind() == System.Text.Json.JsonValueKind.String ? [JsonValue.Create(value.GetValue<string>())] : [JsonValue.Create(value.ToJsonString())];
        }
    }

    /// <summary>An option's label by its stored id (a retired option keeps its label).</summary>
    private static string? Label(FieldDefinition field, string optionId) =>
        field.Options.FirstOrDefault(o => string.Equals(o.Id.ToString(), optionId, StringComparison.OrdinalIgnoreCase))?.Label;

    internal static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    internal static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
