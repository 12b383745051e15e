using Microsoft.AspNetCore.HttpOverrides;

namespace ConnectApp.Hosting;

/// <summary>How the process is hosted: its role (web, worker, migrate, all), its port, and the proxy in front of it.</summary>
internal static class HostingFeature
{
    /// <summary>
    /// Records the role in configuration (CONNECTAPP_ROLE); a web role listens on PORT (loopback locally, all
    /// interfaces on a Heroku dyno), a worker on nothing; trusts Heroku's router for the client's scheme and address.
    /// </summary>
    public static WebApplicationBuilder UseProcessRole(this WebApplicationBuilder builder, ProcessRole role)
    {
        var configuration = builder.Configuration;
        configuration["CONNECTAPP_ROLE"] = role.ToString();
        if (!role.RunsWeb())
        {
            builder.WebHost.UseServer(new NoHttpServer());
        }
        else if (configuration["ASPNETCORE_URLS"] is null && configuration["urls"] is null)
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
}
