using System.Text.Json;
using System.Text.Json.Serialization;
using ConnectApp.Problems;

namespace ConnectApp.Api;

/// <summary>How the API reads and writes JSON: enums in kebab-case (multi-select, customers-edit), unknown members refused.</summary>
internal static class ApiFeature
{
    public static IServiceCollection AddApi(this IServiceCollection services) =>
        services
            .ConfigureHttpJsonOptions(o =>
            {
                o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
                o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            })
            .AddProblemConvention((_, route) => AppRoutes.IsApiOrLifecycle(route), InputGuard.NulCharacter, InputGuard.NumberOutOfRange)
            .Configure<Microsoft.AspNetCore.OpenApi.OpenApiOptions>("v1", o => o.AddOperationTransformer<ApiOpenApi>().AddSchemaTransformer<ApiOpenApi>());

    /// <summary>
    /// After routing, before authentication: a known path with a method it does not support is answered 405 with
    /// <c>Allow</c> (routing's own rejection endpoint, whose body the status pages make a problem), instead of the
    /// fail-closed 401 an anonymous caller would otherwise get for an endpoint that does not exist.
    /// </summary>
    public static IApplicationBuilder UseMethodNotAllowed(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint() is { DisplayName: "405 HTTP Method Not Supported", RequestDelegate: { } reject })
        {
            await reject(context);
            return;
        }

        await next(context);
    });

    /// <summary>After authorization, before any endpoint: input the database cannot store is refused (<see cref="InputGuard"/>).</summary>
    public static IApplicationBuilder UseInputGuard(this IApplicationBuilder app) => InputGuard.Use(app);

    /// <summary>
    /// The app's API group: called by the iframe SPA with context tokens (<c>AP.context.getToken()</c>), so they are
    /// accepted here; integrations call it with API tokens, limited to what their scopes allow.
    /// </summary>
    public static RouteGroupBuilder MapApiGroup(this IEndpointRouteBuilder app) =>
        app.MapGroup("/api").WithMetadata(new AtlassianConnect.Authentication.AllowContextTokenAttribute());
}
