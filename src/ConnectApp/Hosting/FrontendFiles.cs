using Microsoft.Net.Http.Headers;

namespace ConnectApp.Hosting;

/// <summary>
/// The iframe pages (frontend/, built into wwwroot/app): content-hashed assets are cached for a year, immutable;
/// everything else (the pages, which name the current assets) is revalidated on every load, so a deploy takes effect
/// at once. Data never comes with a page: it comes from /api with a context token.
/// </summary>
internal static class FrontendFiles
{
    public const string AssetsPath = "/app/assets";
    public const string ImmutableCache = "public, max-age=31536000, immutable";
    public const string Revalidate = "no-cache";

    public static IApplicationBuilder UseFrontendFiles(this IApplicationBuilder app)
    {
        app.UseDefaultFiles();
        return app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = c => c.Context.Response.Headers[HeaderNames.CacheControl] =
                c.Context.Request.Path.StartsWithSegments(AssetsPath) ? ImmutableCache : Revalidate,
        });
    }
}
