using Microsoft.AspNetCore.Diagnostics;

namespace ConnectApp.Problems;

/// <summary>Turns the exceptions the app answers deliberately (<see cref="AppProblem"/>, unreadable requests) into problems.</summary>
internal sealed class AppProblemHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            AppProblem p => p,
            BadHttpRequestException { InnerException: System.Text.Json.JsonException { Path: { } path } } b =>
                new AppProblem(CommonProblems.BadRequest with { Status = b.StatusCode }, $"The JSON body is not valid at {path}.", inner: b),
            BadHttpRequestException b => new AppProblem(CommonProblems.BadRequest with { Status = b.StatusCode }, "The request could not be read: " + b.Message, inner: b),
            _ => null,
        };
        if (problem is null)
        {
            return false;
        }

        await ProblemWriter.WriteAsync(context, problem);
        return true;
    }
}
