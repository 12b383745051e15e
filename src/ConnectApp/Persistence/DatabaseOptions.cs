using Microsoft.Extensions.Options;
using Npgsql;

namespace ConnectApp.Persistence;

/// <summary>Where the system of record is: <c>DATABASE_URL</c> (postgres://user:password@host:port/database?sslmode=...).</summary>
internal sealed class DatabaseOptions
{
    public const string LocalDefault = "postgres://app:app_pw@127.0.0.1:5432/appdb";

    public string Url { get; set; } = LocalDefault;

    /// <summary>The Npgsql connection string for <see cref="Url"/>; null when the URL is malformed.</summary>
    public string? ConnectionString => DatabaseUrl.ToConnectionString(Url);
}

internal sealed class DatabaseOptionsValidator : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options) =>
        options.ConnectionString is null
            ? ValidateOptionsResult.Fail("DATABASE_URL is malformed: expected postgres://user:password@host:port/database.")
            : ValidateOptionsResult.Success;
}

internal static class DatabaseUrl
{
    /// <summary>Turns a Heroku-style postgres:// URL into an Npgsql connection string. Remote hosts get TLS.</summary>
    public static string? ToConnectionString(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("postgres" or "postgresql") || string.IsNullOrEmpty(uri.Host))
        {
            return null;
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        var userInfo = uri.UserInfo.Split(':', 2);
        if (database.Length == 0 || userInfo[0].Length == 0)
        {
            return null;
        }

        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
            Database = database,
            Username = Uri.UnescapeDataString(userInfo[0]),
            Password = userInfo.Length > 1 ? Uri.UnescapeDataString(userInfo[1]) : null,
            SslMode = uri.IsLoopback ? SslMode.Prefer : SslMode.Require,
            MaxPoolSize = 40,

            // Statements run twice on a connection are prepared there: PostgreSQL plans them once instead of on every
            // execution (planning cost ~5x executing the issue panel's read). Behind a transaction-mode PgBouncer
            // older than 1.21, add ?max_auto_prepare=0 to DATABASE_URL.
            MaxAutoPrepare = 64,
            AutoPrepareMinUsages = 2,

            // Every statement is planned for the site at hand (a session default, so it survives the pool's RESET ALL and
            // covers every connection: EF's, the search engine's, Quartz's). A prepared statement's plan is otherwise
            // PostgreSQL's call: after five runs it may switch to a generic plan, made without the tenant's numbers (the
            // tenant is a setting under row-level security, or a parameter of the search engine's statements). A pooled
            // connection serves every site, so a plan made while small sites ran is then used for a site with a million
            // customers. That happened to the directory list (ORDER BY name LIMIT 51): after the demo site's pages, the
            // large site's pages took 4.8 s each instead of 35 ms, because the generic plan sorted every customer (bench
            // 2026-11-24 23:23 and 23:32; ADR 16). Custom plans are made per run from the site's own numbers, and
            // preparing still saves the parse. The issue panel's reader (Records.PanelReader) plans generically on
            // purpose, transaction-locally, for one shape of query whose plan is the same for every site.
            Options = "-c plan_cache_mode=force_custom_plan",
        };
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            if (kv[0] == "sslmode" && kv.Length == 2 && Enum.TryParse<SslMode>(kv[1].Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var mode))
            {
                builder.SslMode = mode;
            }
            else if (kv[0] == "max_auto_prepare" && kv.Length == 2 && int.TryParse(kv[1], System.Globalization.CultureInfo.InvariantCulture, out var prepare) && prepare >= 0)
            {
                builder.MaxAutoPrepare = prepare;
            }
        }

        return builder.ConnectionString;
    }
}
