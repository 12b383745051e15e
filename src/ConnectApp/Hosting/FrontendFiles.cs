using System.IO.Compression;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Net.Http.Headers;

namespace ConnectApp.Hosting;

/// <summary>
/// The iframe pages (frontend/, built into wwwroot/app): content-hashed assets are cached for a year, immutable;
/// everything else (the pages, which name the current assets) is revalidated on every load, so a deploy takes effect
/// at once. Data never comes with a page: it comes from /api with a context token. Pages and assets go out compressed
/// (Brotli, else gzip) — Heroku's router does not compress — and only they: they carry no secrets, so compressing
/// them over HTTPS gives BREACH nothing to read, unlike API answers that hold tokens.
/// </summary>
internal static class FrontendFiles
{
    public const string AssetsPath = "/app/assets";
    public const string ImmutableCache = "public, max-age=31536000, immutable";
    public const string Revalidate = "no-cache";

    public const string PagesPath = "/app";

    public static IServiceCollection AddFrontendFiles(this IServiceCollection services) =>
        services
            .AddResponseCompression(o =>
            {
                o.EnableForHttps = true;
                o.Providers.Add<BrotliCompressionProvider>();
                o.Providers.Add<GzipCompressionProvider>();
                o.MimeTypes = ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml", "application/json"];
            })
            .Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Optimal)
            .Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Optimal);

    public static IApplicationBuilder UseFrontendFiles(this IApplicationBuilder app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments(PagesPath), pages => pages.UseResponseCompression());
        app.UseDefaultFiles();
        return app.UseStaticFiles(new StaticFileOptions
        {
            OnPrepareResponse = c => c.Context.Response.Headers[HeaderNames.CacheControl] =
                c.Context.Request.Path.StartsWithSegments(AssetsPath) ? ImmutableCache : Revalidate,
        });
    }
}
