using System.Security.Claims;
using AtlassianConnect;
using AtlassianConnect.Authentication;
using AtlassianConnect.Forge;
using ConnectApp.Api;
using ConnectApp.Jira;
using ConnectApp.Problems;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Caching.Memory;

namespace ConnectApp.Roles;

/// <summary>
/// Resolves the caller's role from Jira's permission API, as the app, cached per (tenant, accountId) for five
/// minutes: a revoked agent keeps agent rights in the app for at most that long.
/// </summary>
internal sealed class RoleResolver(JiraClient jira, IConnectTenantStore tenants, IMemoryCache cache, IHttpContextAccessor http) : IAppRoleResolver
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(5);

    /// <summary>How long a site's service-desk project ids are reused (a new service desk counts after at most this).</summary>
    public static readonly TimeSpan ProjectsCacheFor = TimeSpan.FromMinutes(10);

    public async Task<AppRole> ResolveAsync(ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (user.FindFirst(AppClaims.TokenScope) is not null)
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

        var tenant = await tenants.FindAsync(clientKey, refresh: false, cancellationToken) ?? throw CommonProblems.Forbidden.Problem("Unknown installation.");
        var forge = http.HttpContext?.Features.Get<ForgeInvocation>();

        // Jira answers SERVICEDESK_AGENT only for the projects named: the site's service-desk projects (cached per
        // tenant), plus the project of the page the token was minted on, when it names one.
        var projects = new HashSet<long>(await ServiceDeskProjectsAsync(tenant, forge, cancellationToken));
        if (long.TryParse(user.FindFirstValue(ConnectJwtDefaults.ProjectIdClaim), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var contextProject))
        {
            projects.Add(contextProject);
        }

        var (admin, agent) = await jira.CheckPermissionsAsync(tenant, forge, accountId, projects, cancellationToken);
        var role = admin ? AppRole.Admin : agent ? AppRole.Agent : AppRole.Customer;
        cache.Set(key, role, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = CacheFor, Size = 1 });
        return role;
    }

    private async Task<IReadOnlyList<long>> ServiceDeskProjectsAsync(ConnectTenant tenant, ForgeInvocation? forge, CancellationToken cancellationToken)
    {
        var key = $"servicedesk-projects:{tenant.ClientKey}";
        if (cache.TryGetValue(key, out IReadOnlyList<long>? ids) && ids is not null)
        {
            return ids;
        }

        ids = await jira.GetServiceDeskProjectIdsAsync(tenant, forge, cancellationToken);
        cache.Set(key, ids, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = ProjectsCacheFor, Size = 1 });
        return ids;
    }
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
        http?.Features.Set<IAppRoleFeature>(new AppRoleFeature(role));
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
