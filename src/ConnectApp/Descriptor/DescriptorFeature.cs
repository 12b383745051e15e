using System.Text.Json;
using System.Text.Json.Nodes;
using AtlassianConnect;
using ConnectApp.Licensing;
using Microsoft.Extensions.Options;

namespace ConnectApp.Descriptor;

/// <summary>Serves <c>atlassian-connect.json</c>: the template at the repository root with key, baseUrl and licensing filled in.</summary>
internal static class DescriptorFeature
{
    public static IServiceCollection AddDescriptor(this IServiceCollection services) =>
        services.AddSingleton(sp => Render(sp.GetRequiredService<IWebHostEnvironment>(), sp.GetRequiredService<IOptions<ConnectOptions>>().Value, sp.GetRequiredService<IOptions<LicensingOptions>>().Value));

    public static IEndpointRouteBuilder MapDescriptorEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/atlassian-connect.json", (RenderedDescriptor descriptor) => Results.Text(descriptor.Json, "application/json"))
            .WithTags("Connect").WithName("Descriptor").AllowAnonymous().Produces<JsonObject>(StatusCodes.Status200OK, "application/json");
        return app;
    }

    internal static RenderedDescriptor Render(IWebHostEnvironment environment, ConnectOptions options, LicensingOptions licensing)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "atlassian-connect.json");
        if (!File.Exists(path))
        {
            path = Path.Combine(environment.ContentRootPath, "atlassian-connect.json");
        }

        var baseUrl = options.BaseUrl!.ToString().TrimEnd('/');
        var text = File.ReadAllText(path)
            .Replace("{{APP_BASE_URL}}", baseUrl, StringComparison.Ordinal)
            .Replace("{{APP_KEY}}", options.AppKey, StringComparison.Ordinal);
        var node = JsonNode.Parse(text)!.AsObject();
        node["enableLicensing"] = licensing.Enforced; // Jira then adds lic=active|none to every module URL
        return new RenderedDescriptor(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}

internal sealed record RenderedDescriptor(string Json);
