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
