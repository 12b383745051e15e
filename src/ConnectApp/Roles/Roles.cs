using System.Security.Claims;
using AtlassianConnect;
using AtlassianConnect.Authentication;
using ConnectApp.Jira;
using ConnectApp.Problems;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Caching.Memory;

namespace ConnectApp.Roles;

/// <summary>What the caller may do in the app. Ordered: each role includes the ones below it.</summary>
internal enum AppRole
{
    /// <summary>A portal customer: their own record and organizations, customer-visible fields only.</summary>
    Customer = 0,

    /// <summary>A JSM agent: every record and field.</summary>
    Agent = 1,

    /// <summary>A Jira administrator: also manages field definitions and API tokens.</summary>
    Admin = 2,
}

/// <summary>
/// Resolves the caller's role from Jira's permission API, as the app, cached per (tenant, accountId) for five
/// minutes: a revoked agent keeps agent rights in the app for at most that long.
/// </summary>
internal sealed class RoleResolver(JiraClient jira, IConnectTenantStore tenants, IMemoryCache cache)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(5);

    public async Task<AppRole> ResolveAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (user.FindFirst(ApiTokenClaims.Scope) is not null)
        {
            return AppRole.Agent; // integration tokens act on records like an agent, never as admin
        }

        var clientKey = user.FindFirstValue(ConnectJwtDefaults.ClientKeyClaim);
        var accountId = user.FindFirstValue(ConnectJwtDefaults.AccountIdClaim);
        if (clientKey is null || accountId is null)
        {
            return AppRole.Customer;
        }

        var key = $"role:{clientKey}:{accountId}";
        if (cache.TryGetValue(key, out AppRole cached))
        {
            return cached;
        }

        var tenant = await tenants.FindAsync(clientKey, refresh: false, cancellationToken) ?? throw AppProblem.Forbidden("Unknown installation.");
        var (admin, agent) = await jira.CheckPermissionsAsync(tenant, accountId, cancellationToken);
        var role = admin ? AppRole.Admin : agent ? AppRole.Agent : AppRole.Customer;
        cache.Set(key, role, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = CacheFor, Size = 1 });
        return role;
    }
}

/// <summary>Claims of API-token principals.</summary>
internal static class ApiTokenClaims
{
    public const string Scope = "connectapp:token_scope";
    public const string TokenId = "connectapp:token_id";
}

internal sealed record RoleRequirement(AppRole Minimum) : IAuthorizationRequirement;

internal sealed class RoleRequirementHandler(RoleResolver roles, IHttpContextAccessor accessor) : AuthorizationHandler<RoleRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated != true)
        {
            return;
        }

        var http = accessor.HttpContext;
        var role = await roles.ResolveAsync(context.User, http?.RequestAborted ?? CancellationToken.None);
        http?.Items[typeof(AppRole)] = role;
        if (role >= requirement.Minimum)
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, $"This needs the {requirement.Minimum.ToString().ToLowerInvariant()} role."));
        }
    }
}

internal static class RolesFeature
{
    public const string Admin = "role:admin";
    public const string Agent = "role:agent";
    public const string Customer = "role:customer";

    public static IServiceCollection AddRoles(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddScoped<RoleResolver>();
        services.AddScoped<IAuthorizationHandler, RoleRequirementHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(Admin, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(AppRole.Admin)))
            .AddPolicy(Agent, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(AppRole.Agent)))
            .AddPolicy(Customer, p => p.RequireAuthenticatedUser().RequireClaim(ConnectJwtDefaults.AccountIdClaim).AddRequirements(new RoleRequirement(AppRole.Customer)));
        services.AddHttpClient<JiraClient>(JiraClient.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .AddHttpMessageHandler<AtlassianConnect.Outgoing.ConnectSigningHandler>();
        return services;
    }
}
