using AtlassianConnect.Authentication;
using ConnectApp.Api;
using ConnectApp.Jira;
using ConnectApp.Problems;
using Microsoft.AspNetCore.Authorization;

namespace ConnectApp.Roles;

/// <summary>Roles from Jira's permission API, as authorization policies (<see cref="Admin"/>, <see cref="Agent"/>, <see cref="Customer"/>).</summary>
internal static class RolesFeature
{
    public const string Admin = "role:admin";
    public const string Agent = "role:agent";
    public const string Customer = "role:customer";

    public static IServiceCollection AddRoles(this IServiceCollection services)
    {
        services.AddHttpContextAccessor();
        services.AddScoped<RoleResolver>();
        services.AddScoped<IAppRoleResolver>(sp => sp.GetRequiredService<RoleResolver>());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        // Every endpoint behind a role policy asks Jira for the caller's role: it may be refused, or Jira may not answer.
        services.AddProblemConvention(
            (metadata, _) => metadata.OfType<IAuthorizeData>().Any(a => a.Policy?.StartsWith("role:", StringComparison.Ordinal) == true),
            CommonProblems.Forbidden, JiraProblems.Unavailable);
        services.AddScoped<IAuthorizationHandler, RoleRequirementHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(Admin, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(AppRole.Admin)))
            .AddPolicy(Agent, p => p.RequireAuthenticatedUser().AddRequirements(new RoleRequirement(AppRole.Agent)))
            .AddPolicy(Customer, p => p.RequireAuthenticatedUser().RequireClaim(ConnectJwtDefaults.AccountIdClaim).AddRequirements(new RoleRequirement(AppRole.Customer)));
        return services;
    }
}
