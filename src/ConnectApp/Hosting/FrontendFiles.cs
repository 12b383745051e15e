using System.IO.Compression;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.FileProviders;
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

        // Only where wwwroot has something: the default-files middleware asks the file system whether every other path
        // (/api/whoami, the issue panel) is a directory, a stat per request (3 % of whoami's CPU under load, perf 2026-11-24).
        var roots = TopLevelNames(app.ApplicationServices.GetRequiredService<IWebHostEnvironment>().WebRootFileProvider);
        return app.UseWhen(c => IsUnder(c.Request.Path, roots), files => files
            .UseDefaultFiles()
            .UseStaticFiles(new StaticFileOptions
            {
                OnPrepareResponse = c => c.Context.Response.Headers[HeaderNames.CacheControl] =
                    c.Context.Request.Path.StartsWithSegments(AssetsPath) ? ImmutableCache : Revalidate,
            }));
    }

    /// <summary>The names of wwwroot's files and folders (read at start: a deploy replaces the process).</summary>
    internal static HashSet<string> TopLevelNames(IFileProvider webRoot) =>
        webRoot.GetDirectoryContents(string.Empty).Select(f => f.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>"/" (index.html) or a path whose first segment is one of wwwroot's entries.</summary>
    internal static bool IsUnder(PathString path, HashSet<string> roots)
    {
        var value = path.Value;
        if (string.IsNullOrEmpty(value) || value == "/")
        {
            return true;
        }

        var rest = value.AsSpan(1);
        var end = rest.IndexOf('/');
        var first = end < 0 ? rest : rest[..end];
        return roots.GetAlternateLookup<ReadOnlySpan<char>>().Contains(first);
    }
}
