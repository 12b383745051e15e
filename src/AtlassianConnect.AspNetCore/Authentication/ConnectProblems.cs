using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace AtlassianConnect.Authentication;

/// <summary>
/// The library's one writer of error responses (authentication and lifecycle failures): RFC 9457 ProblemDetails with
/// the status's reason phrase as title, <c>type</c> <c>urn:connect:problem:&lt;code&gt;</c> and a <c>code</c> extension.
/// It writes through the host's <see cref="IProblemDetailsService"/> when there is one, so a host that customizes
/// ProblemDetails (for example to put every <c>type</c> under its own URN prefix, or to add a trace id) shapes these
/// responses too; without one it writes the body itself.
/// </summary>
public static class ConnectProblems
{
    /// <summary>The <c>type</c> prefix the library uses; hosts may rewrite it.</summary>
    public const string TypePrefix = "urn:connect:problem:";

    /// <summary>Writes <paramref name="failure"/> as the response (401 also gets <c>WWW-Authenticate: <paramref name="challenge"/></c>).</summary>
    public static async Task WriteAsync(HttpContext context, ConnectAuthFailure failure, string challenge = "JWT")
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(failure);
        context.Response.StatusCode = failure.Status;
        if (failure.Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = challenge;
        }

        var problem = new ProblemDetails
        {
            Status = failure.Status,
            Title = ReasonPhrases.GetReasonPhrase(failure.Status),
            Type = TypePrefix + failure.Code,
            Detail = failure.Detail,
            Extensions = { ["code"] = failure.Code },
        };
        var writer = context.RequestServices.GetService(typeof(IProblemDetailsService)) as IProblemDetailsService;
        if (writer is null || !await writer.TryWriteAsync(new() { HttpContext = context, ProblemDetails = problem }))
        {
            await context.Response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json");
        }
    }
}
