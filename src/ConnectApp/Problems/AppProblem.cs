using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ConnectApp.Problems;

/// <summary>
/// A request the app refuses, with a stable code. Thrown by validators and writers; <see cref="AppProblemHandler"/>
/// is the one place that turns it into a ProblemDetails response. Nothing is written when one is thrown: writers
/// validate before they change anything, inside one transaction.
/// </summary>
internal sealed class AppProblem(int status, string code, string detail, IDictionary<string, string[]>? errors = null) : Exception(detail)
{
    public int Status { get; } = status;

    public string Code { get; } = code;

    public IDictionary<string, string[]>? Errors { get; } = errors;

    public object? Extra { get; init; }

    public static AppProblem NotFound(string what) => new(404, "not_found", $"{what} was not found.");

    public static AppProblem Validation(IDictionary<string, string[]> errors, string detail = "Some values are not valid; nothing was changed.") =>
        new(400, "validation_failed", detail, errors);

    public static AppProblem BadRequest(string code, string detail) => new(400, code, detail);

    public static AppProblem Forbidden(string detail) => new(403, "forbidden", detail);

    public static AppProblem Conflict(string code, string detail) => new(409, code, detail);
}

internal sealed class AppProblemHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, code, detail, errors, extra) = exception switch
        {
            AppProblem p => (p.Status, p.Code, p.Message, p.Errors, p.Extra),
            BadHttpRequestException { InnerException: System.Text.Json.JsonException { Path: { } path } } b => (b.StatusCode, "bad_request", $"The JSON body is not valid at {path}.", null, null),
            BadHttpRequestException b => (b.StatusCode, "bad_request", "The request could not be read: " + b.Message, null, null),
            Jira.JiraUnavailableException => (503, "jira.unavailable", "Jira did not answer; try again shortly.", null, (object?)null),
            _ => (0, string.Empty, string.Empty, (IDictionary<string, string[]>?)null, (object?)null),
        };
        if (status == 0)
        {
            return false;
        }

        context.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "5";
        }

        var problem = errors is null ? new ProblemDetails() : new ValidationProblemDetails(errors);
        problem.Status = status;
        problem.Title = ReasonPhrases(status);
        problem.Detail = detail;
        problem.Type = "urn:connectapp:problem:" + code;
        problem.Extensions["code"] = code;
        if (extra is not null)
        {
            problem.Extensions["details"] = extra;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
