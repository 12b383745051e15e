using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ConnectApp.Problems;

/// <summary>
/// Writes each operation's problem responses into the OpenAPI document from <see cref="ProblemDeclarations"/>: one
/// response per status, <c>application/problem+json</c>, with the codes it can carry as an enum on <c>code</c>.
/// </summary>
internal sealed class ProblemsOpenApi(IEnumerable<ProblemConvention> conventions) : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var route = "/" + (context.Description.RelativePath ?? string.Empty);
        operation.Responses ??= [];
        foreach (var byStatus in ProblemDeclarations.Of([.. metadata], route, conventions).GroupBy(t => t.Status))
        {
            var codes = byStatus.Select(t => t.Code).ToList();
            var key = byStatus.Key.ToString(CultureInfo.InvariantCulture);
            operation.Responses[key] = new OpenApiResponse
            {
                Description = $"{Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(byStatus.Key)}: code {string.Join(", ", codes)}",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = Schema(codes) },
                },
            };
        }

        return Task.CompletedTask;
    }

    private static OpenApiSchema Schema(IReadOnlyList<string> codes) => new()
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string> { "type", "title", "status", "code" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. codes.Select(c => (JsonNode)JsonValue.Create(c))] },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
            ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String },
        },
    };
}
