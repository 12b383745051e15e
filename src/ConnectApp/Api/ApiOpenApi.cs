using System.Text.Json.Serialization.Metadata;
using ConnectApp.Problems;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ConnectApp.Api;

/// <summary>Endpoint metadata: the response carries the resource's version as <c>ETag</c>.</summary>
internal sealed record ETagMetadata
{
}

internal static class ETagMetadataExtensions
{
    /// <summary>Declares that the endpoint's success response carries <c>ETag</c> (shown in the OpenAPI document).</summary>
    public static TBuilder ReturnsETag<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new ETagMetadata());
}

/// <summary>
/// What the generated OpenAPI document would otherwise get wrong about the API's plumbing: <c>If-Match</c> on the
/// operations that take it (required where a missing one is 428), <c>ETag</c> on responses that carry it, and
/// request members that may be left out marked optional (a nullable or defaulted constructor parameter is optional
/// to the JSON binder, though the generator lists every parameter as required).
/// </summary>
internal sealed class ApiOpenApi : IOpenApiOperationTransformer, IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var problems = metadata.OfType<ProblemsMetadata>().SelectMany(m => m.Types).ToList();
        if (problems.Contains(ApiProblems.IfMatchMalformed))
        {
            var required = problems.Contains(ApiProblems.PreconditionRequired);
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Required = required,
                Description = required
                    ? "The ETag you read (W/\"<version>\"): without it 428, when stale 412."
                    : "The ETag you read; when given and stale, 412.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Examples = [System.Text.Json.Nodes.JsonValue.Create("W/\"3\"")] },
            });
        }

        if (metadata.OfType<ETagMetadata>().Any() && operation.Responses is { } responses)
        {
            foreach (var (status, response) in responses.Where(r => r.Key.StartsWith('2')))
            {
                if (response is OpenApiResponse concrete)
                {
                    concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    concrete.Headers["ETag"] = new OpenApiHeader { Description = "The version of what was returned; send it back as If-Match.", Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Required is { Count: > 0 } required && context.JsonTypeInfo.Kind == JsonTypeInfoKind.Object)
        {
            foreach (var property in context.JsonTypeInfo.Properties)
            {
                if (property.AssociatedParameter is { } parameter && (parameter.HasDefaultValue || parameter.IsNullable))
                {
                    required.Remove(property.Name);
                }
            }
        }

        return Task.CompletedTask;
    }
}
