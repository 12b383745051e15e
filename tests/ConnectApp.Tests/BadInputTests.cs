using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>
/// Input the database cannot store, and the other classes a fuzzer once answered with a 500, are refused with a
/// coded 400 (or 405) and change nothing the tenant owns.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class BadInputTests(ConnectAppFixture app)
{
    private sealed record Site(SimulatedSite Jira, Guid TenantId, HttpClient Admin, HttpClient Agent, string OrgId, string ETag);

    private async Task<Site> SiteAsync()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "note", label = "Note", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "seats", label = "Seats", type = "number" }).OkJsonAsync(HttpStatusCode.Created);
        using var created = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Acme", values = new { note = "hello", seats = 5 } });
        var org = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        return new Site(site, tenant, admin, agent, org["id"]!.GetValue<string>(), created.Headers.ETag!.ToString());
    }

    private async Task AssertRefusedUnchangedAsync(Site site, Func<Task<HttpResponseMessage>> send, HttpStatusCode status, string code)
    {
        var before = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, site.TenantId);
        Assert.True(before.Rows > 3, "the checksum sees the tenant's rows");
        await send().ProblemAsync(status, code);
        Assert.Equal(before, await TenantRows.ChecksumAsync(app.DatabaseConnectionString, site.TenantId));
    }

    private static JsonNode Json(string text) => JsonNode.Parse(text)!;

    [Fact]
    public async Task NulCharacter_AnywhereItWouldReachTheDatabase_Is400_AndChangesNothing()
    {
        var s = await SiteAsync();
        const string nul = "\\u0000";
        await AssertRefusedUnchangedAsync(s, () => s.Agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{s.OrgId}/values", Json("{\"values\":{\"note\":\"a" + nul + "b\"}}"), s.ETag), HttpStatusCode.BadRequest, "input.nul_character");
        await AssertRefusedUnchangedAsync(s, () => s.Agent.SendJsonAsync(HttpMethod.Post, "api/organizations", Json($$"""{"jsmId":"2","name":"Ev{{nul}}il"}""")), HttpStatusCode.BadRequest, "input.nul_character");
        await AssertRefusedUnchangedAsync(s, () => s.Agent.SendJsonAsync(HttpMethod.Post, "api/organizations", Json($$"""{"jsmId":"3{{nul}}","name":"Id"}""")), HttpStatusCode.BadRequest, "input.nul_character");
        await AssertRefusedUnchangedAsync(s, () => s.Admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", Json($$"""{"entity":"organization","key":"k","label":"L{{nul}}","type":"text"}""")), HttpStatusCode.BadRequest, "input.nul_character");
        await AssertRefusedUnchangedAsync(s, () => s.Agent.GetAsync("api/organizations?q=a%00b"), HttpStatusCode.BadRequest, "input.nul_character");
        await AssertRefusedUnchangedAsync(s, () => s.Agent.GetAsync("api/issue-panel?reporter=557058:a%00b"), HttpStatusCode.BadRequest, "input.nul_character");
    }

    [Fact]
    public async Task NumberBeyondDecimal_Is400_AndChangesNothing()
    {
        var s = await SiteAsync();
        await AssertRefusedUnchangedAsync(s, () => s.Agent.SendJsonAsync(HttpMethod.Post, "api/organizations", Json("""{"jsmId":"9","name":"Big","values":{"seats":1e29}}""")), HttpStatusCode.BadRequest, "input.number_out_of_range");
        await AssertRefusedUnchangedAsync(s, () => s.Agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{s.OrgId}/values", Json("""{"values":{"seats":-1e29}}"""), s.ETag), HttpStatusCode.BadRequest, "input.number_out_of_range");
        await AssertRefusedUnchangedAsync(s, () => s.Agent.SendJsonAsync(HttpMethod.Post, "api/bulk/values", Json("{\"entity\":\"organization\",\"recordIds\":[\"" + s.OrgId + "\"],\"values\":{\"seats\":79228162514264337593543950336}}")), HttpStatusCode.BadRequest, "input.number_out_of_range");

        // The largest decimal is still a number, and within range it is checked by the field's own rules.
        using var max = await s.Agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{s.OrgId}/values", Json("""{"values":{"seats":79228162514264337593543950335}}"""), s.ETag);
        Assert.Equal(HttpStatusCode.OK, max.StatusCode);
    }

    [Fact]
    public async Task NullOption_WhenCreatingASelectField_IsAValidationError_NotACrash()
    {
        var s = await SiteAsync();
        var problem = await AssertRefusedAsync(s, () => s.Admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", Json("""{"entity":"organization","key":"tier","label":"Tier","type":"select","options":[null]}""")));
        Assert.NotNull(problem["errors"]?["options"]);
    }

    private async Task<JsonObject> AssertRefusedAsync(Site site, Func<Task<HttpResponseMessage>> send)
    {
        var before = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, site.TenantId);
        var problem = await send().ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(before, await TenantRows.ChecksumAsync(app.DatabaseConnectionString, site.TenantId));
        return problem;
    }

    [Fact]
    public async Task UnsupportedMethod_On_AnApiRoute_Is405_WithAllow_EvenWithoutAToken()
    {
        using var anonymous = await app.Client().DeleteAsync("/api/whoami");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, anonymous.StatusCode);
        Assert.Contains("GET", anonymous.Content.Headers.Allow);
        var problem = JsonNode.Parse(await anonymous.Content.ReadAsStringAsync())!;
        Assert.Equal("method_not_allowed", problem["code"]!.GetValue<string>());

        var s = await SiteAsync();
        await AssertRefusedUnchangedAsync(s, () => s.Agent.PutAsync($"api/organizations/{s.OrgId}", new StringContent("{}", Encoding.UTF8, "application/json")), HttpStatusCode.MethodNotAllowed, "method_not_allowed");
    }

    [Fact]
    public void UnexpectedFailure_IsA500Problem_WithACode()
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Response.StatusCode = 500;
        var details = new Microsoft.AspNetCore.Mvc.ProblemDetails();
        ConnectApp.Problems.ProblemWriter.Normalize(new Microsoft.AspNetCore.Http.ProblemDetailsContext { HttpContext = context, ProblemDetails = details });
        Assert.Equal("internal_error", details.Extensions["code"]);
        Assert.Equal("urn:connectapp:problem:internal_error", details.Type);
        Assert.Equal("Internal Server Error", details.Title);
    }
}
