using System.Security.Claims;
using AtlassianConnect;
using AtlassianConnect.Authentication;
using AtlassianConnect.Forge;
using ConnectApp.Hosting;
using ConnectApp.Problems;
using Microsoft.Extensions.Options;

namespace ConnectApp.Licensing;

/// <summary>
/// Marketplace licensing (<c>LICENSING=enforce</c>): a site without an active license reads everything — its data
/// stays its own, and exports and deletion keep working — but changes nothing: every other API call that is not a
/// GET answers 403 <c>license.inactive</c>. Endpoints that only read through a POST (search) or that must stay open
/// to an unlicensed site (deleting its data) say so with <see cref="AllowUnlicensed{TBuilder}"/>.
/// </summary>
internal static class LicensingFeature
{
    public static readonly ProblemType Inactive = new(403, "license.inactive");

    public static IServiceCollection AddLicensing(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<LicensingOptions, LicensingOptionsValidator>(o => o.Mode = configuration["LICENSING"]);
        services.AddSingleton<LicenseChecker>();
        // Declared whatever the mode: the document describes the API as a licensed listing deploys it.
        services.AddProblemConvention((metadata, route) => IsGuarded(metadata, route), Inactive);
        return services;
    }

    /// <summary>This endpoint changes nothing, or must stay open to an unlicensed site.</summary>
    public static TBuilder AllowUnlicensed<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new AllowUnlicensedAttribute());

    /// <summary>After authorization: refuses a change from a site whose license is not active.</summary>
    public static IApplicationBuilder UseLicensing(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var options = context.RequestServices.GetRequiredService<IOptions<LicensingOptions>>().Value;
        if (options.Enforced
            && context.User.Identity?.IsAuthenticated == true
            && context.GetEndpoint() is RouteEndpoint endpoint
            && IsGuarded([.. endpoint.Metadata], endpoint.RoutePattern.RawText ?? string.Empty)
            && !await IsLicensedAsync(context))
        {
            await ProblemWriter.WriteAsync(context, Inactive.Problem("This site's license of the app is not active, so changes are switched off; everything can still be read and exported. A Jira admin can renew the license under Apps → Manage apps."));
            return;
        }

        await next(context);
    });

    private static bool IsGuarded(IReadOnlyList<object> metadata, string route) =>
        new PathString(route).StartsWithSegments("/api") // lifecycle calls are Jira's, never refused
        && !metadata.OfType<AllowUnlicensedAttribute>().Any()
        && metadata.OfType<HttpMethodMetadata>().Any(m => m.HttpMethods.Any(h => !HttpMethods.IsGet(h) && !HttpMethods.IsHead(h) && !HttpMethods.IsOptions(h)));

    private static async Task<bool> IsLicensedAsync(HttpContext context)
    {
        // A Forge Remote call carries the installation's license in its token.
        if (context.Features.Get<ForgeInvocation>() is { LicenseActive: { } forgeLicense })
        {
            return forgeLicense;
        }

        if (context.User.FindFirstValue(ConnectJwtDefaults.ClientKeyClaim) is not { } clientKey
            || await context.RequestServices.GetRequiredService<IConnectTenantStore>().FindAsync(clientKey, refresh: false, context.RequestAborted) is not { } tenant)
        {
            return false;
        }

        return await context.RequestServices.GetRequiredService<LicenseChecker>().IsActiveAsync(tenant, context.RequestAborted);
    }

    [AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
    private sealed class AllowUnlicensedAttribute : Attribute;
}
