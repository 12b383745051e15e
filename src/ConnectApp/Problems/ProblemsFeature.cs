namespace ConnectApp.Problems;

/// <summary>
/// Error answers: ProblemDetails for everything (normalized by <see cref="ProblemWriter.Normalize"/>), thrown
/// problems and unreadable requests handled by <see cref="AppProblemHandler"/>, and the declared problems written
/// into the OpenAPI document.
/// </summary>
internal static class ProblemsFeature
{
    public static IServiceCollection AddProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemWriter.Normalize);
        services.AddExceptionHandler<AppProblemHandler>();
        services.AddOpenApi(o => o.AddOperationTransformer<ProblemsOpenApi>());
        // A body that does not bind (wrong JSON type, not JSON) throws, so AppProblemHandler answers it with code bad_request.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    /// <summary>Exceptions become problems; an unexpected one is a 500 problem with a code, never a stack trace.</summary>
    public static IApplicationBuilder UseProblems(this IApplicationBuilder app) => app
        .UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        })
        .UseStatusCodePages();
}
