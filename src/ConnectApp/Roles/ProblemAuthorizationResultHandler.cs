using ConnectApp.Problems;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace ConnectApp.Roles;

/// <summary>A refused role answers 403 ProblemDetails (code <c>forbidden</c>) instead of an empty body.</summary>
internal sealed class ProblemAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && context.User.Identity?.IsAuthenticated == true)
        {
            var reason = authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? "Your role does not allow this.";
            await ProblemWriter.WriteAsync(context, CommonProblems.Forbidden.Problem(reason));
            return;
        }

        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
