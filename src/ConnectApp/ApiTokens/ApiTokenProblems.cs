using ConnectApp.Problems;

namespace ConnectApp.ApiTokens;

/// <summary>Problems of API-token authentication, scopes, the rate limit and token management.</summary>
internal static class ApiTokenProblems
{
    public static readonly ProblemType Invalid = new(401, "api_token.invalid");
    public static readonly ProblemType Revoked = new(401, "api_token.revoked");
    public static readonly ProblemType TenantInactive = new(401, "api_token.tenant_inactive");
    public static readonly ProblemType NotAllowed = new(403, "api_token.not_allowed");
    public static readonly ProblemType Scope = new(403, "api_token.scope");
    public static readonly ProblemType Limit = new(409, "api_token.limit");
    public static readonly ProblemType RateLimited = new(429, "rate_limited");
}
