using System.Text.Json;
using System.Text.Json.Serialization;

namespace ConnectApp.Api;

/// <summary>How the API reads and writes JSON: enums in kebab-case (multi-select, customers-edit), unknown members refused.</summary>
internal static class ApiFeature
{
    public static IServiceCollection AddApi(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
            o.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        });

    /// <summary>
    /// The app's API group: called by the iframe SPA with context tokens (<c>AP.context.getToken()</c>), so they are
    /// accepted here; integrations call it with API tokens, limited to what their scopes allow.
    /// </summary>
    public static RouteGroupBuilder MapApiGroup(this IEndpointRouteBuilder app) =>
        app.MapGroup("/api").WithMetadata(new AtlassianConnect.Authentication.AllowContextTokenAttribute());
}
