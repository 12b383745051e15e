using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AtlassianConnect;

/// <summary>The request target a query string hash is computed over.</summary>
public static class RequestTarget
{
    /// <summary>The path and query exactly as the client sent them (still percent-encoded), which is what the qsh covers.</summary>
    public static string Raw(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw) || raw[0] != '/')
        {
            var r = context.Request;
            raw = r.PathBase.ToUriComponent() + r.Path.ToUriComponent() + r.QueryString.ToUriComponent();
        }

        return raw;
    }
}
