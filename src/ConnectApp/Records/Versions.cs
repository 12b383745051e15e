using ConnectApp.Problems;
using Microsoft.Net.Http.Headers;

namespace ConnectApp.Records;

/// <summary>ETag / If-Match for optimistic concurrency: the ETag is the version, a weak validator.</summary>
internal static class Versions
{
    public static string ETag(int version) => $"W/\"{version}\"";

    public static void SetETag(HttpResponse response, int version) => response.Headers[HeaderNames.ETag] = ETag(version);

    /// <summary>The version the caller read, from If-Match; writes without one are refused (428) so no edit is lost silently.</summary>
    public static int Required(HttpRequest request)
    {
        var header = request.Headers[HeaderNames.IfMatch].ToString().Trim();
        if (header.Length == 0)
        {
            throw new AppProblem(428, "precondition_required", "Send If-Match with the ETag you read, so a concurrent change is not overwritten.");
        }

        var text = header.StartsWith("W/", StringComparison.Ordinal) ? header[2..] : header;
        text = text.Trim('"');
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version)
            ? version
            : throw AppProblem.BadRequest("if_match_malformed", "If-Match must be an ETag this API returned, like W/\"3\".");
    }
}
