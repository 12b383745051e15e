using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace ConnectApp.Problems;

/// <summary>
/// The one place an error response is written. Every path that answers an error — thrown problems, refused roles,
/// API-token checks, the rate limiter, and (through <see cref="Normalize"/>, which the host installs as the
/// ProblemDetails customizer) the Connect library and the framework's own status pages — ends here, so every body
/// is <c>application/problem+json</c> with a title from the status, a <c>type</c> under one URN prefix and a
/// <c>code</c>.
/// </summary>
internal static class ProblemWriter
{
    public const string TypePrefix = "urn:connectapp:problem:";

    public static async Task WriteAsync(HttpContext context, AppProblem problem)
    {
        context.Response.StatusCode = problem.Status;
        if (problem.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        var body = problem.Errors is null ? new ProblemDetails() : new ValidationProblemDetails(problem.Errors);
        body.Status = problem.Status;
        body.Detail = problem.Message;
        body.Extensions["code"] = problem.Code;
        if (problem.Extra is not null)
        {
            body.Extensions["details"] = problem.Extra;
        }

        ProblemDeclarations.CheckDeclared(context, problem.Type);
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await service.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = body, Exception = problem.InnerException ?? problem });
    }

    /// <summary>
    /// Applied to every ProblemDetails the host writes, whoever made it: title from the status, <c>type</c> from the
    /// code under <see cref="TypePrefix"/>, a code from the status where the writer gave none, and the trace id.
    /// </summary>
    public static void Normalize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        problem.Status = status;
        problem.Title = ReasonPhrases.GetReasonPhrase(status);
        if (problem.Extensions.TryGetValue("code", out var value) is false || value is not string { Length: > 0 } code)
        {
            code = DefaultCode(status);
            problem.Extensions["code"] = code;
        }

        problem.Type = TypePrefix + code;
        problem.Extensions["traceId"] = context.HttpContext.TraceIdentifier;
    }

    private static string DefaultCode(int status) => status switch
    {
        400 => CommonProblems.BadRequest.Code,
        401 => CommonProblems.Unauthorized.Code,
        403 => CommonProblems.Forbidden.Code,
        404 => CommonProblems.NotFound.Code,
        405 => CommonProblems.MethodNotAllowed.Code,
        >= 500 => CommonProblems.InternalError.Code,
        _ => "http_" + status.ToString(CultureInfo.InvariantCulture),
    };
}
