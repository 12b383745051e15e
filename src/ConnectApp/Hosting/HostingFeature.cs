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

    /// <summary>
    /// After every feature is added: ASP.NET Core's authentication brings Data Protection (each AddAuthentication call),
    /// whose hosted service loads, or first creates, an XML key ring when the host starts. The app protects nothing
    /// with it: no cookies, no antiforgery, no protected payloads; tokens are Connect's, secrets are AES-GCM under
    /// SECRETS_KEY. On every fresh dyno it wrote a key to the dyno's disposable filesystem and logged a warning ("No XML
    /// encryptor configured"). Without the hosted service a key ring is made only if something ever asks for one.
    /// </summary>
    public static IServiceCollection WithoutDataProtectionAtStartup(this IServiceCollection services)
    {
        var dataProtection = typeof(Microsoft.AspNetCore.DataProtection.DataProtectionOptions).Assembly;
        foreach (var hosted in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Assembly == dataProtection).ToList())
        {
            services.Remove(hosted);
        }

        return services;
    }
}
