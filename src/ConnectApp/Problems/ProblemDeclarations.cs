using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;

namespace ConnectApp.Problems;

/// <summary>Endpoint metadata: the problems this endpoint (or route group) may answer with.</summary>
internal sealed record ProblemsMetadata(IReadOnlyList<ProblemType> Types);

/// <summary>
/// Problems a whole kind of endpoint may answer with, declared by the feature that causes them (the role check,
/// API tokens, ...). <see cref="AppliesTo"/> sees the endpoint's metadata and route pattern.
/// </summary>
internal sealed record ProblemConvention(Func<IReadOnlyList<object>, string, bool> AppliesTo, IReadOnlyList<ProblemType> Types);

/// <summary>
/// What an endpoint declares it may answer with: its own <c>.Problems(...)</c>, the conventions that apply to it, and
/// what follows from its shape (authentication → 401, a body → 400 bad_request). The OpenAPI document is generated
/// from this, and <see cref="ProblemWriter"/> logs a warning for a problem an endpoint did not declare, which the
/// test command fails on, so the document cannot drift from the code.
/// </summary>
internal static class ProblemDeclarations
{
    public static TBuilder Problems<TBuilder>(this TBuilder builder, params ProblemType[] types)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new ProblemsMetadata(types));

    public static IServiceCollection AddProblemConvention(this IServiceCollection services, Func<IReadOnlyList<object>, string, bool> appliesTo, params ProblemType[] types) =>
        services.AddSingleton(new ProblemConvention(appliesTo, types));

    /// <summary>True for an endpoint that needs an authenticated caller.</summary>
    public static bool RequiresAuthentication(IReadOnlyList<object> metadata) =>
        metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();

    public static IReadOnlyList<ProblemType> Of(IReadOnlyList<object> metadata, string route, IEnumerable<ProblemConvention> conventions)
    {
        var types = new List<ProblemType>();
        if (RequiresAuthentication(metadata))
        {
            types.Add(CommonProblems.Unauthorized);
        }

        if (metadata.OfType<IAcceptsMetadata>().Any() || metadata.OfType<ProblemsMetadata>().Any(m => m.Types.Contains(CommonProblems.ValidationFailed)))
        {
            types.Add(CommonProblems.BadRequest);
        }

        types.AddRange(metadata.OfType<ProblemsMetadata>().SelectMany(m => m.Types));
        types.AddRange(conventions.Where(c => c.AppliesTo(metadata, route)).SelectMany(c => c.Types));
        return types.Distinct().OrderBy(t => t.Status).ThenBy(t => t.Code, StringComparer.Ordinal).ToList();
    }

    /// <summary>Logs (never throws) when the endpoint answering this request did not declare <paramref name="type"/>.</summary>
    public static void CheckDeclared(HttpContext context, ProblemType type)
    {
        // Inside the exception handler the endpoint is cleared from the context; the feature keeps the one that threw.
        var current = context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
        if (current is not RouteEndpoint endpoint || type.Code == CommonProblems.BadRequest.Code || type.Code == CommonProblems.InternalError.Code)
        {
            return;
        }

        var declared = Of([.. endpoint.Metadata], endpoint.RoutePattern.RawText ?? string.Empty, context.RequestServices.GetServices<ProblemConvention>());
        if (!declared.Contains(type))
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProblemDeclarations))
                .LogWarning("Undeclared problem {ProblemCode} ({ProblemStatus}) answered by {Route}: add it to the endpoint's .Problems(...)", type.Code, type.Status, endpoint.RoutePattern.RawText);
        }
    }
}
