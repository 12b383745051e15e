using AtlassianConnect.Authentication;

namespace ConnectApp.Identity;

/// <summary>The smallest authenticated endpoint: who the token says the caller is. Used by tests and monitoring.</summary>
internal static class IdentityFeature
{
    public sealed record WhoAmI(string ClientKey, string? AccountId);

    public static IEndpointRouteBuilder MapIdentityEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/whoami", (HttpContext context) => TypedResults.Ok(new WhoAmI(
                context.User.FindFirst(ConnectJwtDefaults.ClientKeyClaim)!.Value,
                context.User.FindFirst(ConnectJwtDefaults.AccountIdClaim)?.Value)))
            .RequireAuthorization()
            .WithTags("Identity");
        return app;
    }
}
