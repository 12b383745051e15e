using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using AtlassianConnect.Authentication;
using AtlassianConnect.Forge;
using ConnectApp.Api;
using ConnectApp.Hosting;
using ConnectApp.Problems;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ConnectApp.ApiTokens;

/// <summary>API tokens for integrations outside Jira: the scheme, the admin endpoints, scopes and the per-tenant rate limit.</summary>
internal static class ApiTokensFeature
{
    public static IServiceCollection AddApiTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<ApiTokenOptions, ApiTokenOptionsValidator>(o => o.RateLimit = configuration["API_TOKEN_RATE_LIMIT"]);
        services.AddScoped<ApiTokenWriter>();

        // Any authenticated API endpoint may be called with a token: refused, out of scope, or over the rate limit.
        services.AddProblemConvention(
            (metadata, route) => route.StartsWith("/api/", StringComparison.Ordinal) && ProblemDeclarations.RequiresAuthentication(metadata),
            ApiTokenProblems.Invalid, ApiTokenProblems.Revoked, ApiTokenProblems.TenantInactive, ApiTokenProblems.NotAllowed, ApiTokenProblems.Scope, ApiTokenProblems.RateLimited);

        services.AddAuthentication()
            .AddScheme<ApiTokenAuthenticationOptions, ApiTokenHandler>(ApiTokenDefaults.AuthenticationScheme, _ => { })
            .AddPolicyScheme(ApiTokenDefaults.SelectorScheme, "Connect JWT, Forge Invocation Token or API token", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString() is var authorization && ForgeDefaults.IsBearerJwt(authorization)
                    ? ForgeDefaults.AuthenticationScheme // Forge Remote: a bearer JWT (API tokens are cat_..., never three dot-separated parts)
                    : authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                        ? ApiTokenDefaults.AuthenticationScheme
                        : ConnectJwtDefaults.AuthenticationScheme);
        // PostConfigure: the Connect library sets its own scheme as the default when it is added; this must win
        // whichever of the two is registered first.
        services.PostConfigure<AuthenticationOptions>(o => o.DefaultScheme = ApiTokenDefaults.SelectorScheme);

        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<ApiTokenOptions>>((o, tokens) =>
        {
            var perSecond = tokens.Value.RequestsPerSecond;
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, Guid>(context =>
                context.Request.Path.StartsWithSegments("/api") && TokenTenant(context.User) is { } tenantId
                    ? RateLimitPartition.GetTokenBucketLimiter(tenantId, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = perSecond, // a full second's worth may come as one burst
                        TokensPerPeriod = perSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0, // refuse at once: a client told to retry later does better than one left hanging
                        AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter(Guid.Empty)); // the iframe's own calls are bounded by people, not by this limiter
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (rejected, _) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
                rejected.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await ProblemWriter.WriteAsync(rejected.HttpContext, ApiTokenProblems.RateLimited.Problem(
                    $"This site's API tokens may make {perSecond} requests per second; retry after the Retry-After header's seconds."));
            };
        });
        return services;
    }

    /// <summary>After authentication and the tenant scope, before authorization: rate limit, then scopes, of token requests.</summary>
    public static IApplicationBuilder UseApiTokens(this IApplicationBuilder app) =>
        app.UseRateLimiter().UseApiTokenScopes();

    public static IEndpointRouteBuilder MapApiTokenEndpoints(this IEndpointRouteBuilder api)
    {
        ApiTokensApi.Map(api);
        return api;
    }

    private static Guid? TokenTenant(ClaimsPrincipal user) =>
        user.FindFirstValue(AppClaims.TokenId) is not null && Guid.TryParse(user.FindFirstValue(ConnectJwtDefaults.TenantIdClaim), out var id) ? id : null;
}
