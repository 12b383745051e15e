using System.Security.Claims;
using AtlassianConnect.Authentication;
using ConnectApp.Roles;

namespace ConnectApp.Records;

/// <summary>Who is asking, for which tenant, in which role: what every handler and writer needs to know.</summary>
internal sealed record Caller(Guid TenantId, string Actor, string? AccountId, AppRole Role)
{
    public static async Task<Caller> FromAsync(HttpContext context)
    {
        var user = context.User;
        var tenantId = Guid.Parse(user.FindFirstValue(ConnectJwtDefaults.TenantIdClaim) ?? throw new InvalidOperationException("No tenant on an authenticated request."));
        var accountId = user.FindFirstValue(ConnectJwtDefaults.AccountIdClaim);
        var tokenId = user.FindFirstValue(ApiTokenClaims.TokenId);
        var role = context.Items.TryGetValue(typeof(AppRole), out var r) && r is AppRole known
            ? known
            : await context.RequestServices.GetRequiredService<RoleResolver>().ResolveAsync(user, context.RequestAborted);
        return new Caller(tenantId, tokenId is not null ? "token:" + tokenId : accountId ?? "unknown", accountId, role);
    }
}
