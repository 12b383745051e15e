using AtlassianConnect;
using ConnectApp.Api;
using Microsoft.Extensions.Options;

namespace ConnectApp.Operability;

/// <summary>
/// Headers every response gets: no sniffing, no Referer (iframe URLs carry a jwt), and on pages a CSP whose
/// frame-ancestors are the allowed tenant hosts; API responses are never cached.
/// </summary>
internal sealed class SecurityHeaders(RequestDelegate next, IOptions<ConnectOptions> options)
{
    private readonly string _pageCsp = "default-src 'self'; script-src 'self' https://connect-cdn.atl-paas.net; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors "
        + FrameAncestors(options.Value);

    public Task InvokeAsync(HttpContext context)
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            if (AppRoutes.IsApiOrLifecycle(context.Request.Path))
            {
                headers.CacheControl = "no-store";
            }
            else if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
            {
                headers.ContentSecurityPolicy = _pageCsp;
            }

            return Task.CompletedTask;
        });
        return next(context);
    }

    internal static string FrameAncestors(ConnectOptions options)
    {
        var sources = new List<string> { "'self'" };
        foreach (var raw in options.AllowedHostSuffixes)
        {
            var suffix = raw.Trim().ToLowerInvariant();
            if (suffix.StartsWith('.'))
            {
                sources.Add("https://*" + suffix);
            }
            else if (suffix is "localhost" or "127.0.0.1" or "[::1]")
            {
                sources.Add($"http://{suffix}:*");
            }
            else
            {
                sources.Add("https://" + suffix);
            }
        }

        return string.Join(' ', sources);
    }
}
