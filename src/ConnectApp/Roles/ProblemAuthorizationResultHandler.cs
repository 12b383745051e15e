using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Mvc;

namespace ConnectApp.Roles;

/// <summary>A refused role answers 403 ProblemDetails (code <c>forbidden</c>) instead of an empty body.</summary>
internal sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && context.User.Identity?.IsAuthenticated == true)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            var reason = authorizeResult.AuthorizationFailure?.FailureReasons.FirstOrDefault()?.Message ?? "Your role does not allow this.";
            var problem = new ProblemDetails
            {
                Status = 403,
                Title = "Forbidden",
                Detail = reason,
                Type = "urn:connectapp:problem:forbidden",
                Extensions = { ["code"] = "forbidden" },
            };
            await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
            return;
        }

        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
