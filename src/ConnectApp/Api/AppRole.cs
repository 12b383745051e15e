using System.Security.Claims;

namespace ConnectApp.Api;

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

/// <summary>The role resolved for this request (set by the role policy), so handlers do not ask Jira twice.</summary>
internal interface IAppRoleFeature
{
    AppRole Role { get; }
}

internal sealed record AppRoleFeature(AppRole Role) : IAppRoleFeature;

/// <summary>Resolves a principal's role; implemented by Roles (Jira's permission API).</summary>
internal interface IAppRoleResolver
{
    Task<AppRole> ResolveAsync(ClaimsPrincipal user, CancellationToken cancellationToken);
}
