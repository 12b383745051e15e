using System.Security.Claims;
using ConnectApp.Api;
using ConnectApp.Problems;
using Microsoft.AspNetCore.Authorization;

namespace ConnectApp.ApiTokens;

/// <summary>
/// What a token-authenticated request may call, decided once for every endpoint by method and path. It is an
/// allow-list: an endpoint that is not listed here (every admin and portal endpoint, and any endpoint added later)
/// is closed to tokens until someone decides it should be open and to which scope.
/// </summary>
internal static class ApiTokenScopes
{
    public const string Read = "read";
    public const string Write = "write";

    public static readonly IReadOnlyList<string> All = [Read, Write];

    // Never, whatever the scopes: managing the app (and its tokens) needs a Jira admin in person; the portal answers
    // for a customer's own account, and saved views and column choices (/api/views, /api/me) belong to an agent's
    // account, which a token does not have.
    private static readonly string[] Closed = ["/api/admin", "/api/portal", "/api/views", "/api/me"];

    private static readonly (string Method, string Path, string Scope)[] Open =
    [
        (HttpMethods.Get, "/api/whoami", Read),
        (HttpMethods.Get, "/api/organizations", Read), // list, one, history
        (HttpMethods.Get, "/api/customers", Read),
        (HttpMethods.Get, "/api/fields", Read), // list, one, history
        (HttpMethods.Get, "/api/issue-panel", Read),
        (HttpMethods.Post, "/api/search", Read), // directory search: a POST (filters in the body) that only reads
        (HttpMethods.Post, "/api/organizations", Write),
        (HttpMethods.Patch, "/api/organizations", Write),
        (HttpMethods.Post, "/api/customers", Write),
        (HttpMethods.Patch, "/api/customers", Write),
        (HttpMethods.Post, "/api/bulk/values", Write),
        (HttpMethods.Put, "/api/organizations", Write), // add a member (written back to JSM)
        (HttpMethods.Delete, "/api/organizations", Write), // remove a member
        (HttpMethods.Post, "/api/bulk/memberships", Write),
        (HttpMethods.Post, "/api/history", Write), // restore a value
        (HttpMethods.Get, "/api/imports", Read), // an import's progress and error report
        (HttpMethods.Post, "/api/imports", Write), // CSV import writes records; exports are GETs under /api/organizations|customers
    ];

    /// <summary>
    /// After authentication, before authorization: refuses a token request its token may not make, with 403 and a
    /// stable code. Requests authenticated otherwise, anonymous endpoints and unmatched routes pass untouched.
    /// </summary>
    public static IApplicationBuilder UseApiTokenScopes(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.User.FindFirstValue(AppClaims.TokenId) is not null
            && context.GetEndpoint() is { } endpoint
            && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null
            && Refusal(context.Request.Method, context.Request.Path, context.User) is { } refusal)
        {
            await ProblemWriter.WriteAsync(context, refusal); // answered here, not thrown: a refused token call is routine, not an exception
            return;
        }

        await next(context);
    });

    /// <summary>The 403 to answer when a token principal may not make this request; null when it may.</summary>
    internal static AppProblem? Refusal(string method, PathString path, ClaimsPrincipal user)
    {
        if (Closed.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            return ApiTokenProblems.NotAllowed.Problem("API tokens cannot call admin, portal or personal (saved views, columns) endpoints.");
        }

        var rule = Open.FirstOrDefault(r => HttpMethods.Equals(r.Method, method) && path.StartsWithSegments(r.Path, StringComparison.OrdinalIgnoreCase));
        if (rule.Scope is null)
        {
            return ApiTokenProblems.NotAllowed.Problem("This endpoint is not available to API tokens.");
        }

        return user.HasClaim(AppClaims.TokenScope, rule.Scope)
            ? null
            : ApiTokenProblems.Scope.Problem($"This request needs an API token with the '{rule.Scope}' scope.");
    }
}
