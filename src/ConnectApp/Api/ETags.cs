using Microsoft.Net.Http.Headers;

namespace ConnectApp.Api;

/// <summary>ETag / If-Match for optimistic concurrency: the ETag is the version, a weak validator.</summary>
internal static class ETags
{
    public static string Of(int version) => $"W/\"{version}\"";

    public static void Set(HttpResponse response, int version) => response.Headers[HeaderNames.ETag] = Of(version);

    /// <summary>The version the caller read, from If-Match; writes without one are refused (428) so no edit is lost silently.</summary>
    public static int Required(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.IfMatch].ToString().Trim();
        if (header.Length == 0)
        {
            throw ApiProblems.PreconditionRequired.Problem("Send If-Match with the ETag you read, so a concurrent change is not overwritten.");
        }

        return Parse(header);
    }

    /// <summary>The version in If-Match, or null when the request has none.</summary>
    public static int? Optional(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.IfMatch].ToString().Trim();
        return header.Length == 0 ? null : Parse(header);
    }

    private static int Parse(string header)
    {
        var text = header.StartsWith("W/", StringComparison.Ordinal) ? header[2..] : header;
        text = text.Trim('"');
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
            ? version
            : throw ApiProblems.IfMatchMalformed.Problem("If-Match must be an ETag this API returned, like W/\"3\".");
    }
}
