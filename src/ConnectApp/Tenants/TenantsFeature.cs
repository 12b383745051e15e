using System.Security.Claims;
using AtlassianConnect;
using AtlassianConnect.Authentication;
using AtlassianConnect.Forge;
using AtlassianConnect.Lifecycle;
using ConnectApp.Hosting;
using ConnectApp.Persistence;
using ConnectApp.Problems;

namespace ConnectApp.Tenants;

internal static class TenantsFeature
{
    /// <summary>The Connect library (JWT authentication, signed installs) over this app's tenant store and lifecycle handler.</summary>
    public static IServiceCollection AddTenants(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddConnectOptions(configuration);
        services.AddForgeOptions(configuration);
        services.AddAtlassianConnect().AddForgeRemote();
        // A protected endpoint may answer with any of the library's authentication codes.
        services.AddProblemConvention(
            (metadata, _) => ProblemDeclarations.RequiresAuthentication(metadata),
            [.. ConnectAuthCodes.ConnectJwt.Concat(ConnectAuthCodes.ForgeInvocationToken).Select(c => new ProblemType(c.Status, c.Code))]);
        services.AddAuthorization(o => o.FallbackPolicy = o.DefaultPolicy); // fail closed: an endpoint is anonymous only when it says so
        services.AddSingleton<TenantStore>();
        services.AddSingleton<IConnectTenantStore>(sp => sp.GetRequiredService<TenantStore>());
        services.AddSingleton<IForgeInstallationStore>(sp => sp.GetRequiredService<TenantStore>());
        services.AddScoped<IConnectLifecycleHandler, TenantLifecycle>();
        services.AddSingleton<TenantActivity>();
        return services;
    }

    public static IEndpointRouteBuilder MapTenantEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapConnectLifecycle().AllowAnonymous(); // each callback verifies its own signed token
        return app;
    }

    /// <summary>After authentication: the request acts for the token's tenant, for the query code and for row-level security.</summary>
    public static IApplicationBuilder UseTenantScope(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.User.FindFirstValue(ConnectJwtDefaults.TenantIdClaim) is { } id && Guid.TryParse(id, out var tenantId))
        {
            context.RequestServices.GetRequiredService<TenantScope>().Enter(tenantId);
            await context.RequestServices.GetRequiredService<TenantActivity>().SeenAsync(tenantId, context.RequestAborted);
        }

        await next(context);
    });
}
