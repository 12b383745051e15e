using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace AtlassianConnect;

/// <summary>
/// The Connect query string hash (<c>qsh</c> claim): SHA-256 over the canonical request
/// <c>METHOD&amp;path&amp;query</c>, as Atlassian's <c>atlassian-jwt</c> computes it.
/// </summary>
/// <remarks>
/// Behaviour on inputs where implementations disagree is chosen deliberately (see docs/adr/0002):
/// the path is taken as received (still percent-encoded), query names and values are decoded
/// (<c>+</c> is a space, invalid UTF-8 becomes U+FFFD), names are sorted by their decoded form in
/// ordinal order, repeated values are sorted and joined with <c>,</c>, and everything is re-encoded
/// with RFC 3986 unreserved characters only.
/// </remarks>
public static class QueryStringHash
{
    /// <summary>The fixed <c>qsh</c> value carried by context tokens from <c>AP.context.getToken()</c>.</summary>
    public const string ContextQsh = "context-qsh";

    /// <summary>Computes the hex SHA-256 of <see cref="CanonicalRequest"/>.</summary>
    public static string Compute(string method, string pathAndQuery, string? basePath = null)
    {
        var canonical = CanonicalRequest(method, pathAndQuery, basePath);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    /// <summary>
    /// Builds the canonical request for <paramref name="method"/> and a raw (as sent, percent-encoded)
    /// <paramref name="pathAndQuery"/>. <paramref name="basePath"/> is the path of the app's baseUrl
    /// (incoming requests) or the product's context path (outgoing requests); it is stripped.
    /// </summary>
    public static string CanonicalRequest(string method, string pathAndQuery, string? basePath = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        var fragment = pathAndQuery.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0)
        {
            pathAndQuery = pathAndQuery[..fragment];
        }

        var q = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = q >= 0 ? pathAndQuery[..q] : pathAndQuery;
        var query = q >= 0 ? pathAndQuery[(q + 1)..] : string.Empty;
        return method.ToUpperInvariant() + "&" + CanonicalPath(path, basePath) + "&" + CanonicalQuery(ParseQuery(query));
    }

    /// <summary>The canonical path: base path stripped, <c>&amp;</c> encoded, leading slash, no trailing slash.</summary>
    public static string CanonicalPath(string path, string? basePath = null)
    {
        var prefix = (basePath ?? string.Empty).TrimEnd('/');
        if (prefix.Length > 0 && path.StartsWith(prefix, StringComparison.Ordinal))
        {
            path = path[prefix.Length..];
        }

        if (path.Length == 0)
        {
            return "/";
        }

        path = path.Replace("&", "%26", StringComparison.Ordinal);
        if (path[0] != '/')
        {
            path = "/" + path;
        }

        if (path.Length > 1 && path[^1] == '/')
        {
            path = path[..^1];
        }

        return path;
    }

    /// <summary>Parses a raw query string (without <c>?</c>) into decoded name/value pairs, in order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseQuery(string query)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var part in query.Split('&'))
        {
            if (part.Length == 0)
            {
                continue;
            }

            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq >= 0 ? part[..eq] : part;
            var value = eq >= 0 ? part[(eq + 1)..] : string.Empty;
            result.Add(new(Decode(name), Decode(value)));
        }

        return result;
    }

    /// <summary>The canonical query of decoded parameters: <c>jwt</c> removed, sorted, re-encoded.</summary>
    public static string CanonicalQuery(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var grouped = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            if (name == "jwt")
            {
                continue;
            }

            if (!grouped.TryGetValue(name, out var values))
            {
                grouped[name] = values = [];
            }

            values.Add(value);
        }

        var sb = new StringBuilder();
        foreach (var (name, values) in grouped)
        {
            if (sb.Length > 0)
            {
                sb.Append('&');
            }

            sb.Append(Encode(name)).Append('=');
            if (values.Count > 1)
            {
                values.Sort(StringComparer.Ordinal);
            }

            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                {
                    sb.Append(',');
                }

                sb.Append(Encode(values[i]));
            }
        }

        return sb.ToString();
    }

    /// <summary>RFC 3986 percent-encoding of UTF-8: only <c>A-Z a-z 0-9 - . _ ~</c> stay literal.</summary>
    public static string Encode(string value) => Uri.EscapeDataString(value);

    private static string Decode(string value) => WebUtility.UrlDecode(value);
}
