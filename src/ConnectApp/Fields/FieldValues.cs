using System.Globalization;
using System.Net.Mail;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ConnectApp.Fields;

/// <summary>
/// The typed rules of field values: what a valid value is for each type, its stored JSON form, and its text form
/// (CSV, type conversion). Stored forms: strings for text-like types and dates (yyyy-MM-dd), numbers, booleans,
/// option ids for selects (so renaming an option keeps values), arrays of option ids for multi-selects.
/// </summary>
internal static partial class FieldValues
{
    public const int TextMax = 255;
    public const int ParagraphMax = 10_000;
    public const char MultiSeparator = '|';

    /// <summary>Validates <paramref name="input"/> for <paramref name="field"/>; null input clears (unless required).</summary>
    public static (JsonNode? Value, string? Error) Normalize(FieldDefinition field, JsonNode? input)
    {
        if (input is null)
        {
            return field.Required ? (null, "is required and cannot be cleared") : (null, null);
        }

        var kind = input.GetValueKind();
        switch (field.Type)
        {
            case FieldType.Number:
                if (kind != JsonValueKind.Number)
                {
                    return (null, "must be a number");
                }

                return CheckNumber(field, input.GetValue<decimal>());
            case FieldType.Checkbox:
                return kind is JsonValueKind.True or JsonValueKind.False ? (JsonValue.Create(input.GetValue<bool>()), null) : (null, "must be true or false");
            case FieldType.MultiSelect:
                if (kind != JsonValueKind.Array)
                {
                    return (null, "must be an array of option ids or labels");
                }

                var ids = new List<string>();
                foreach (var item in input.AsArray())
                {
                    if (item?.GetValueKind() != JsonValueKind.String || FindOption(field, item.GetValue<string>()) is not { } option)
                    {
                        return (null, $"has an unknown or retired option: {Describe(item)}");
                    }

                    if (!ids.Contains(option.Id.ToString()))
                    {
                        ids.Add(option.Id.ToString());
                    }
                }

                if (ids.Count == 0 && field.Required)
                {
                    return (null, "is required and cannot be cleared");
                }

                return (new JsonArray(ids.Select(i => (JsonNode)JsonValue.Create(i)!).ToArray()), null);
            default:
                if (kind != JsonValueKind.String)
                {
                    return (null, "must be a string");
                }

                return NormalizeString(field, input.GetValue<string>());
        }
    }

    /// <summary>Parses the text form (CSV cell, conversion): empty clears.</summary>
    public static (JsonNode? Value, string? Error) FromText(FieldDefinition field, string text)
    {
        if (text.Length == 0)
        {
            return Normalize(field, null);
        }

        switch (field.Type)
        {
            case FieldType.Number:
                return decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                    ? CheckNumber(field, number)
                    : (null, "must be a number (like 1234.5)");
            case FieldType.Checkbox:
                return text.Trim().ToLowerInvariant() switch
                {
                    "true" or "yes" or "1" => (JsonValue.Create(true), null),
                    "false" or "no" or "0" => (JsonValue.Create(false), null),
                    _ => (null, "must be true or false"),
                };
            case FieldType.MultiSelect:
                var parts = text.Split(MultiSeparator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                return Normalize(field, new JsonArray(parts.Select(p => (JsonNode)JsonValue.Create(p)!).ToArray()));
            default:
                return NormalizeString(field, text);
        }
    }

    /// <summary>The text form of a stored value (labels for options, invariant numbers, yyyy-MM-dd dates).</summary>
    public static string ToText(FieldDefinition field, JsonNode? value)
    {
        if (value is null)
        {
            return string.Empty;
        }

        return field.Type switch
        {
            FieldType.Number => value.GetValue<decimal>().ToString(CultureInfo.InvariantCulture),
            FieldType.Checkbox => value.GetValue<bool>() ? "true" : "false",
            FieldType.Select => OptionLabel(field, value.GetValue<string>()),
            FieldType.MultiSelect => string.Join(MultiSeparator, value.AsArray().Select(v => OptionLabel(field, v!.GetValue<string>()))),
            _ => value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString(),
        };
    }

    private static string OptionLabel(FieldDefinition field, string id) =>
        field.Options.FirstOrDefault(o => o.Id.ToString() == id)?.Label ?? id;

    private static (JsonNode? Value, string? Error) CheckNumber(FieldDefinition field, decimal number)
    {
        if (field.Min is { } min && number < min)
        {
            return (null, $"must be at least {min.ToString(CultureInfo.InvariantCulture)}");
        }

        if (field.Max is { } max && number > max)
        {
            return (null, $"must be at most {max.ToString(CultureInfo.InvariantCulture)}");
        }

        if (field.Decimals is { } decimals && decimal.Round(number, decimals) != number)
        {
            return (null, decimals == 0 ? "must be a whole number" : $"must have at most {decimals} decimals");
        }

        return (JsonValue.Create(number / 1.000000000000000000000000000000000m), null); // normalized: no trailing zeros
    }

    private static (JsonNode? Value, string? Error) NormalizeString(FieldDefinition field, string text)
    {
        switch (field.Type)
        {
            case FieldType.Text:
                if (text.Length > TextMax || text.Contains('\n', StringComparison.Ordinal) || text.Contains('\r', StringComparison.Ordinal))
                {
                    return (null, $"must be one line of at most {TextMax} characters");
                }

                break;
            case FieldType.Paragraph:
                if (text.Length > ParagraphMax)
                {
                    return (null, $"must be at most {ParagraphMax} characters");
                }

                break;
            case FieldType.Date:
                if (!DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                {
                    return (null, "must be a date as yyyy-MM-dd");
                }

                return (JsonValue.Create(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), null);
            case FieldType.Email:
                text = text.Trim();
                if (text.Length > 254 || !EmailPattern().IsMatch(text) || !MailAddress.TryCreate(text, out var address) || address.Address != text)
                {
                    return (null, "must be an email address");
                }

                break;
            case FieldType.Url:
                text = text.Trim();
                if (text.Length > 2048 || !Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || string.IsNullOrEmpty(uri.Host))
                {
                    return (null, "must be an absolute http or https URL");
                }

                break;
            case FieldType.Phone:
                text = text.Trim();
                if (!PhonePattern().IsMatch(text) || text.Count(char.IsAsciiDigit) is < 5 or > 20)
                {
                    return (null, "must be a phone number (digits, spaces, + - ( ) ., 5 to 20 digits)");
                }

                break;
            case FieldType.User:
                text = text.Trim();
                if (!AccountIdPattern().IsMatch(text))
                {
                    return (null, "must be an Atlassian accountId");
                }

                break;
            case FieldType.Select:
                return FindOption(field, text) is { } option
                    ? (JsonValue.Create(option.Id.ToString()), null)
                    : (null, $"has an unknown or retired option: {text}");
            default:
                return (null, "must be a " + field.Type.ToString().ToLowerInvariant());
        }

        return (JsonValue.Create(text), null);
    }

    /// <summary>An active option by id, or by label (case-insensitive).</summary>
    public static FieldOption? FindOption(FieldDefinition field, string idOrLabel)
    {
        if (Guid.TryParse(idOrLabel, out var id))
        {
            return field.Options.FirstOrDefault(o => o.Id == id && !o.Retired);
        }

        return field.Options.FirstOrDefault(o => !o.Retired && string.Equals(o.Label, idOrLabel.Trim(), StringComparison.OrdinalIgnoreCase));
    }

    private static string Describe(JsonNode? node) => node is null ? "null" : node.ToJsonString();

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    [GeneratedRegex(@"^\+?[0-9 ().\-]{5,40}$")]
    private static partial Regex PhonePattern();

    [GeneratedRegex(@"^[A-Za-z0-9:_\-]{1,128}$")]
    private static partial Regex AccountIdPattern();
}
