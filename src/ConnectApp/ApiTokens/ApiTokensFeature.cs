using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using AtlassianConnect.Authentication;
using ConnectApp.Problems;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ConnectApp.ApiTokens;

/// <summary>API tokens for integrations outside Jira: the scheme, the admin endpoints, scopes and the per-tenant rate limit.</summary>
internal static class ApiTokensFeature
{
    public static IServiceCollection AddApiTokens(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiTokenOptions>().Configure(o => o.RateLimit = configuration["API_TOKEN_RATE_LIMIT"]).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiTokenOptions>, ApiTokenOptionsValidator>();
        services.AddScoped<ApiTokenWriter>();

        services.AddAuthentication()
            .AddScheme<ApiTokenAuthenticationOptions, ApiTokenHandler>(ApiTokenDefaults.AuthenticationScheme, _ => { })
            .AddPolicyScheme(ApiTokenDefaults.SelectorScheme, "Connect JWT or API token", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
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
                TokenTenant(context.User) is { } tenantId
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
                await WriteProblemAsync(rejected.HttpContext, new AppProblem(
                    StatusCodes.Status429TooManyRequests, "rate_limited", $"This site's API tokens may make {perSecond} requests per second; retry after the Retry-After header's seconds."));
            };
        });
        return services;
    }

    /// <summary>After authentication and the tenant scope, before authorization: rate limit, then scopes, of token requests.</summary>
    public static IApplicationBuilder UseApiTokens(this IApplicationBuilder app) =>
        app.UseRateLimiter().UseApiTokenScopes();

    /// <summary>Writes a problem exactly as <see cref="AppProblemHandler"/> does, for the places that answer without throwing.</summary>
    internal static async Task WriteProblemAsync(HttpContext context, AppProblem problem) =>
        await new AppProblemHandler(context.RequestServices.GetRequiredService<IProblemDetailsService>()).TryHandleAsync(context, problem, context.RequestAborted);

    private static Guid? TokenTenant(ClaimsPrincipal user) =>
        user.FindFirstValue(ApiTokenClaims.TokenId) is not null && Guid.TryParse(user.FindFirstValue(ConnectJwtDefaults.TenantIdClaim), out var id) ? id : null;
}
