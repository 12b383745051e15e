using System.Text.Json;
using ConnectApp.Problems;

namespace ConnectApp.Api;

/// <summary>Enum names as the API spells them (kebab-case: multi-select, customers-edit), for query strings too.</summary>
internal static class ApiNames
{
    public static string Of<TEnum>(TEnum value)
        where TEnum : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    /// <summary>Parses an API name; a bad one is a 400 naming the parameter and the allowed values.</summary>
    public static TEnum Parse<TEnum>(string value, string parameter)
        where TEnum : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (string.Equals(Of(candidate), value, StringComparison.Ordinal))
            {
                return candidate;
            }
        }

        throw CommonProblems.BadRequest.Problem($"{parameter} must be one of: {string.Join(", ", Enum.GetValues<TEnum>().Select(Of))}.");
    }
}
