using System.Security.Claims;
using AtlassianConnect.Authentication;

namespace ConnectApp.Api;

/// <summary>
/// Who is asking, for which tenant, in which role: what every handler and writer needs to know. Handlers take it
/// as a parameter (minimal APIs bind it with <see cref="BindAsync"/>); background work makes one with
/// <see cref="ForBackgroundWork"/> from the actor it stored.
/// </summary>
internal sealed record Caller(Guid TenantId, string Actor, string? AccountId, AppRole Role)
{
    /// <summary>Binds the caller of an authenticated request; the role is the one the authorization policy resolved.</summary>
    public static async ValueTask<Caller?> BindAsync(HttpContext context)
    {
        var user = context.User;
        var tenantId = Guid.Parse(user.FindFirstValue(ConnectJwtDefaults.TenantIdClaim) ?? throw new InvalidOperationException("No tenant on an authenticated request."));
        var accountId = user.FindFirstValue(ConnectJwtDefaults.AccountIdClaim);
        var role = context.Features.Get<IAppRoleFeature>()?.Role
            ?? await context.RequestServices.GetRequiredService<IAppRoleResolver>().ResolveAsync(user, context.RequestAborted);
        return new Caller(tenantId, Actors.Of(user), accountId, role);
    }

    /// <summary>The caller a background job acts as: the stored actor, with agent rights (what it was allowed to start).</summary>
    public static Caller ForBackgroundWork(Guid tenantId, string actor) => new(tenantId, actor, Actors.AccountIdOf(actor), AppRole.Agent);
}

/// <summary>How an actor is written in audit rows and jobs: an Atlassian accountId, <c>token:{id}</c> for an API token, or <c>system:{name}</c> for the app's own work.</summary>
internal static class Actors
{
    private const string TokenPrefix = "token:";

    private const string SystemPrefix = "system:";

    /// <summary>The actor of changes the JSM directory sync makes (it acts for no person).</summary>
    public const string JiraSync = SystemPrefix + "jira-sync";

    /// <summary>The actor of memberships an email-domain rule adds (the audit row names the rule).</summary>
    public const string EmailRules = SystemPrefix + "email-rules";

    /// <summary>A caller with neither an API token nor an accountId (a Connect JWT without <c>sub</c>).</summary>
    public const string Unknown = "unknown";

    public static string Of(ClaimsPrincipal user) =>
        user.FindFirstValue(AppClaims.TokenId) is { } tokenId ? ForToken(tokenId) : user.FindFirstValue(ConnectJwtDefaults.AccountIdClaim) ?? Unknown;

    public static string ForToken(string tokenId) => TokenPrefix + tokenId;

    /// <summary>The accountId an actor stands for, or null for an API token or a system actor.</summary>
    public static string? AccountIdOf(string actor) =>
        actor.StartsWith(TokenPrefix, StringComparison.Ordinal) || actor.StartsWith(SystemPrefix, StringComparison.Ordinal) ? null : actor;
}
