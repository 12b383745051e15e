using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Problems;
using ConnectApp.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace ConnectApp.Tests;

/// <summary>
/// One shape for every error, whoever answers it (the host, the Connect library, the framework), and an OpenAPI
/// document that lists each operation's problems from the same declarations the code throws.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class ProblemsTests(ConnectAppFixture app)
{
    private static async Task AssertShapeAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(code, problem["code"]?.GetValue<string>());
        Assert.Equal(ProblemWriter.TypePrefix + code, problem["type"]?.GetValue<string>());
        Assert.Equal(ReasonPhrases.GetReasonPhrase((int)status), problem["title"]?.GetValue<string>());
        Assert.Equal((int)status, problem["status"]?.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(problem["traceId"]?.GetValue<string>()));
    }

    [Fact]
    public async Task LibraryAuthenticationFailure_HasTheHostsProblemShape()
    {
        using var response = await app.Client().GetAsync("/api/whoami");
        await AssertShapeAsync(response, HttpStatusCode.Unauthorized, "jwt.missing");
    }

    [Fact]
    public async Task LibraryLifecycleFailures_AreTitledByTheirStatus_NotBadRequest()
    {
        using var unsupported = await app.Client().PostAsync("/installed", new StringContent("clientKey=x", Encoding.UTF8, "text/plain"));
        await AssertShapeAsync(unsupported, HttpStatusCode.UnsupportedMediaType, "lifecycle.unsupported_media_type");
    }

    [Fact]
    public async Task HostProblem_RoleRefusal_AndFrameworkStatusPage_ShareTheShape()
    {
        var site = await app.InstallSiteAsync();
        using var agent = app.As(site, JiraSimulator.SiteRole.Agent);
        using var notFound = await agent.GetAsync($"/api/organizations/{Guid.NewGuid()}");
        await AssertShapeAsync(notFound, HttpStatusCode.NotFound, "not_found");

        using var forbidden = await agent.GetAsync("/api/admin/api-tokens");
        await AssertShapeAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");

        using var noRoute = await agent.GetAsync("/api/no-such-endpoint");
        await AssertShapeAsync(noRoute, HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task OpenApi_ListsEachOperationsProblems_WithTheirCodes()
    {
        var document = await app.Client().GetAsync("/openapi/v1.json").OkJsonAsync();
        var paths = document["paths"]!.AsObject();

        var setValues = paths["/api/organizations/{id}/values"]!["patch"]!["responses"]!;
        Assert.Contains("record.version_mismatch", Codes(setValues, "412"));
        Assert.Contains("precondition_required", Codes(setValues, "428"));
        Assert.Contains("validation_failed", Codes(setValues, "400"));
        Assert.Contains("api_token.invalid", Codes(setValues, "401"));
        Assert.Contains("forbidden", Codes(setValues, "403"));
        Assert.Contains("jira.unavailable", Codes(setValues, "503"));

        var changeType = paths["/api/admin/fields/{id}/type"]!["post"]!["responses"]!;
        Assert.Contains("field.type_change_lossy", Codes(changeType, "409"));

        var upload = paths["/api/imports"]!["post"]!["responses"]!;
        Assert.Contains("import.too_large", Codes(upload, "413"));
        Assert.Contains("import.unsupported_media_type", Codes(upload, "415"));

        // Anonymous endpoints promise no 401.
        Assert.Null(paths["/atlassian-connect.json"]!["get"]!["responses"]!["401"]);
    }

    [Fact]
    public async Task OpenApi_ShowsEveryDeclaredProblemSomewhere()
    {
        var document = await app.Client().GetAsync("/openapi/v1.json").OkJsonAsync();
        var listed = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject())
            .SelectMany(o => o.Value!["responses"]?.AsObject() ?? [])
            .SelectMany(r => Codes(r.Value!, null))
            .ToHashSet(StringComparer.Ordinal);

        var declared = typeof(ProblemType).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Where(f => f.FieldType == typeof(ProblemType))
            .Select(f => ((ProblemType)f.GetValue(null)!).Code)
            .Where(c => c is not "internal_error" and not "method_not_allowed" and not "unauthorized") // answered by the host for any request
            .ToList();

        Assert.NotEmpty(declared);
        Assert.All(declared, code => Assert.Contains(code, listed));
    }

    private static IEnumerable<string> Codes(JsonNode responses, string? status)
    {
        var response = status is null ? responses : responses[status];
        return response?["content"]?["application/problem+json"]?["schema"]?["properties"]?["code"]?["enum"]?.AsArray().Select(c => c!.GetValue<string>()) ?? [];
    }
}
