using Microsoft.AspNetCore.Diagnostics;

namespace ConnectApp.Problems;

/// <summary>
/// A feature's rule for turning an exception it knows (an outage of the service it owns) into a problem; null when
/// the exception is not its own.
/// </summary>
internal sealed record ExceptionProblemMapping(Func<Exception, AppProblem?> Map);

/// <summary>
/// Turns the exceptions the app answers deliberately (<see cref="AppProblem"/>, unreadable requests, and what the
/// features' <see cref="ExceptionProblemMapping"/>s recognise) into problems; anything else stays a 500.
/// </summary>
internal sealed class AppProblemHandler(IEnumerable<ExceptionProblemMapping> mappings) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            AppProblem p => p,
            BadHttpRequestException { InnerException: System.Text.Json.JsonException { Path: { } path } } b =>
                new AppProblem(CommonProblems.BadRequest with { Status = b.StatusCode }, $"The JSON body is not valid at {path}.", inner: b),
            BadHttpRequestException b => new AppProblem(CommonProblems.BadRequest with { Status = b.StatusCode }, "The request could not be read: " + b.Message, inner: b),
            _ => mappings.Select(m => m.Map(exception)).FirstOrDefault(p => p is not null),
        };
        if (problem is null)
        {
            return false;
        }

        await ProblemWriter.WriteAsync(context, problem);
        return true;
    }
}
