using Microsoft.AspNetCore.HttpOverrides;

namespace ConnectApp.Hosting;

/// <summary>What this process runs; one executable, the role chosen on the command line (see the Procfile).</summary>
internal enum ProcessRole
{
    /// <summary>web and worker in one process: the local default.</summary>
    All,

    /// <summary>Kestrel: descriptor, lifecycle, pages, API, health.</summary>
    Web,

    /// <summary>Background work: consumers, outbox relay, scheduler.</summary>
    Worker,

    /// <summary>Apply database migrations and row-level security, then exit.</summary>
    Migrate,
}

internal static class ProcessRoles
{
    public static bool TryParse(string[] args, out ProcessRole role)
    {
        var name = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "all";
        return Enum.TryParse(name, ignoreCase: true, out role) && Enum.IsDefined(role);
    }

    /// <summary>
    /// Records the role in configuration (CONNECTAPP_ROLE), listens on PORT (loopback locally, all interfaces on a
    /// Heroku dyno), and trusts Heroku's router for the client's scheme and address.
    /// </summary>
    public static WebApplicationBuilder UseProcessRole(this WebApplicationBuilder builder, ProcessRole role)
    {
        var configuration = builder.Configuration;
        configuration["CONNECTAPP_ROLE"] = role.ToString();
        if (configuration["ASPNETCORE_URLS"] is null && configuration["urls"] is null)
        {
            var host = configuration["DYNO"] is null ? "127.0.0.1" : "0.0.0.0";
            builder.WebHost.UseUrls($"http://{host}:{AppConfiguration.Port(configuration)}");
        }

        builder.Services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedFor;
            o.KnownIPNetworks.Clear(); // Heroku's router is the only way in
            o.KnownProxies.Clear();
        });
        return builder;
    }

    public static bool RunsWeb(this ProcessRole role) => role is ProcessRole.All or ProcessRole.Web;

    public static bool RunsWorker(this ProcessRole role) => role is ProcessRole.All or ProcessRole.Worker;
}
