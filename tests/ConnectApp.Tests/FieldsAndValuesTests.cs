using System.Net;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

[Collection(AppCollection.Name)]
public sealed class FieldsAndValuesTests(ConnectAppFixture app)
{
    [Fact]
    public async Task AdminDefinesField_AgentSetsValue_ValueReadsBack()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);

        var field = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" } })
            .OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal("select", field["type"]!.GetValue<string>());
        Assert.Equal(2, field["options"]!.AsArray().Count);

        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Acme" }).OkJsonAsync(HttpStatusCode.Created);
        var id = org["id"]!.GetValue<string>();
        var (_, etag) = await agent.GetWithETagAsync($"api/organizations/{id}");
        var updated = await agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{id}/values", new { values = new { tier = "gold" } }, etag).OkJsonAsync();
        var goldId = field["options"]![0]!["id"]!.GetValue<string>();
        Assert.Equal(goldId, updated["values"]!["tier"]!.GetValue<string>());
        Assert.Equal(2, updated["version"]!.GetValue<int>());
    }

    public static TheoryData<string, string, string, string?> ValueCases() => new()
    {
        // type, valid JSON value, invalid JSON value, expected stored form of the valid one (null: same as given)
        { "text", "\"Hello, world\"", "\"line one\\nline two\"", null },
        { "text", "\"" + new string('x', 255) + "\"", "\"" + new string('x', 256) + "\"", null },
        { "text", "\"ok\"", "42", null },
        { "paragraph", "\"line one\\nline two\"", "\"" + new string('p', 10_001) + "\"", null },
        { "number", "12.5", "\"12.5\"", null },
        { "number", "100", "101", null },
        { "number", "-3.25", "1.255", null },
        { "number", "2.50", "-11", "2.5" },
        { "date", "\"2026-02-28\"", "\"2026-02-30\"", null },
        { "date", "\"2024-02-29\"", "\"28/02/2026\"", null },
        { "select", "\"Gold\"", "\"Platinum\"", "OPTION:Gold" },
        { "select", "\"silver\"", "[\"Gold\"]", "OPTION:Silver" },
        { "multi-select", "[\"Gold\",\"Silver\",\"gold\"]", "[\"Gold\",\"Bronze\"]", "OPTIONS:Gold|Silver" },
        { "multi-select", "[]", "\"Gold\"", null },
        { "checkbox", "true", "\"yes\"", null },
        { "checkbox", "false", "1", null },
        { "email", "\"jane.doe@example.org\"", "\"jane.doe@\"", null },
        { "email", "\"a@b.co\"", "\"two@@example.org\"", null },
        { "url", "\"https://example.org/path?q=1\"", "\"javascript:alert(1)\"", null },
        { "url", "\"http://intranet.example/x\"", "\"example.org\"", null },
        { "phone", "\"+49 (30) 123-4567\"", "\"call me\"", null },
        { "phone", "\"555-0100\"", "\"12\"", null },
        { "user", "\"557058:f8a1c2d3-0000-4a4a-9b9b-123456789abc\"", "\"not an account id!\"", null },
    };

    [Theory]
    [MemberData(nameof(ValueCases))]
    public async Task EveryType_AcceptsValidValues_AndRefusesInvalidOnesNamingTheField(string type, string valid, string invalid, string? stored)
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        var key = "f_" + type.Replace('-', '_');
        var definition = new JsonObject { ["entity"] = "organization", ["key"] = key, ["label"] = type, ["type"] = type };
        if (type == "number")
        {
            definition["min"] = -10;
            definition["max"] = 100;
            definition["decimals"] = 2;
        }

        if (type is "select" or "multi-select")
        {
            definition["options"] = new JsonArray("Gold", "Silver");
        }

        var field = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", definition).OkJsonAsync(HttpStatusCode.Created);
        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "10", name = "Org" }).OkJsonAsync(HttpStatusCode.Created);
        var url = $"api/organizations/{org["id"]}/values";

        var problem = await agent.SendJsonAsync(HttpMethod.Patch, url, new JsonObject { ["values"] = new JsonObject { [key] = JsonNode.Parse(invalid) } }, "W/\"1\"")
            .ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(problem["errors"]![key]);
        var unchanged = await agent.GetWithETagAsync($"api/organizations/{org["id"]}");
        Assert.Equal(1, unchanged.Body["version"]!.GetValue<int>());
        Assert.Null(unchanged.Body["values"]![key]);

        var ok = await agent.SendJsonAsync(HttpMethod.Patch, url, new JsonObject { ["values"] = new JsonObject { [key] = JsonNode.Parse(valid) } }, "W/\"1\"").OkJsonAsync();
        var expected = stored switch
        {
            null => JsonNode.Parse(valid),
            _ when stored.StartsWith("OPTION:", StringComparison.Ordinal) => JsonValue.Create(OptionId(field, stored[7..])),
            _ when stored.StartsWith("OPTIONS:", StringComparison.Ordinal) => new JsonArray(stored[8..].Split('|').Select(l => (JsonNode)JsonValue.Create(OptionId(field, l))!).ToArray()),
            _ => JsonNode.Parse(stored),
        };
        Assert.True(JsonNode.DeepEquals(expected, ok["values"]![key]), $"stored {ok["values"]![key]?.ToJsonString()}, expected {expected?.ToJsonString()}");
    }

    [Fact]
    public async Task SeveralBadValues_AreAllNamed_AndNothingChanges()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "plan", label = "Plan", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "seats", label = "Seats", type = "number", decimals = 0 }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "since", label = "Since", type = "date" }).OkJsonAsync(HttpStatusCode.Created);
        var customer = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = "557058:c1", name = "Cara", values = new { plan = "Basic" } }).OkJsonAsync(HttpStatusCode.Created);

        var problem = await agent.SendJsonAsync(HttpMethod.Patch, $"api/customers/{customer["id"]}/values",
            new { values = new { plan = "Pro", seats = 1.5, since = "yesterday", nope = 1 } }, "W/\"1\"").ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var errors = problem["errors"]!.AsObject();
        Assert.Equal(new[] { "nope", "seats", "since" }, errors.Select(e => e.Key).Order().ToArray());
        var after = await agent.GetWithETagAsync($"api/customers/{customer["id"]}");
        Assert.Equal("Basic", after.Body["values"]!["plan"]!.GetValue<string>());
        Assert.Equal(1, after.Body["version"]!.GetValue<int>());
    }

    [Fact]
    public async Task RequiredField_CannotBeCleared_ButOptionalCan()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "region", label = "Region", type = "text", required = true }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "note", label = "Note", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "5", name = "O", values = new { region = "EU", note = "n" } }).OkJsonAsync(HttpStatusCode.Created);
        var url = $"api/organizations/{org["id"]}/values";

        await agent.SendJsonAsync(HttpMethod.Patch, url, new JsonObject { ["values"] = new JsonObject { ["region"] = null } }, "W/\"1\"").ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var cleared = await agent.SendJsonAsync(HttpMethod.Patch, url, new JsonObject { ["values"] = new JsonObject { ["note"] = null } }, "W/\"1\"").OkJsonAsync();
        Assert.Null(cleared["values"]!["note"]);
        Assert.Equal("EU", cleared["values"]!["region"]!.GetValue<string>());
    }

    [Fact]
    public async Task ConcurrentEdits_SecondWriterGets412_AndNothingIsLost()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var alice = app.As(site, SiteRole.Agent);
        var bob = app.As(site, SiteRole.Agent);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "owner", label = "Owner", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        var org = await alice.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "7", name = "Shared" }).OkJsonAsync(HttpStatusCode.Created);
        var url = $"api/organizations/{org["id"]}";
        var (_, aliceTag) = await alice.GetWithETagAsync(url);
        var (_, bobTag) = await bob.GetWithETagAsync(url);

        await alice.SendJsonAsync(HttpMethod.Patch, url + "/values", new { values = new { owner = "alice" } }, aliceTag).OkJsonAsync();
        await bob.SendJsonAsync(HttpMethod.Patch, url + "/values", new { values = new { owner = "bob" } }, bobTag).ProblemAsync(HttpStatusCode.PreconditionFailed, "record.version_mismatch");
        await bob.SendJsonAsync(HttpMethod.Patch, url + "/values", new { values = new { owner = "bob" } }).ProblemAsync((HttpStatusCode)428, "precondition_required");

        var (body, _) = await bob.GetWithETagAsync(url);
        Assert.Equal("alice", body["values"]!["owner"]!.GetValue<string>());
    }

    [Fact]
    public async Task ParallelWritersWithTheSameETag_ExactlyOneWins()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "n", label = "N", type = "number" }).OkJsonAsync(HttpStatusCode.Created);
        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "8", name = "Race" }).OkJsonAsync(HttpStatusCode.Created);
        var url = $"api/organizations/{org["id"]}/values";

        var responses = await Task.WhenAll(Enumerable.Range(1, 8).Select(i => agent.SendJsonAsync(HttpMethod.Patch, url, new { values = new { n = i } }, "W/\"1\"")));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(7, responses.Count(r => r.StatusCode == HttpStatusCode.PreconditionFailed));
    }

    [Fact]
    public async Task MalformedRequests_Get4xxWithACode_AndChangeNothing()
    {
        var site = await app.InstallSiteAsync();
        var agent = app.As(site, SiteRole.Agent);
        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "O" }).OkJsonAsync(HttpStatusCode.Created);
        var url = $"api/organizations/{org["id"]}/values";

        await agent.SendJsonAsync(HttpMethod.Patch, url, JsonNode.Parse("""{"values":"str"}"""), "W/\"1\"").ProblemAsync(HttpStatusCode.BadRequest, "bad_request");
        await agent.SendJsonAsync(HttpMethod.Patch, url, JsonNode.Parse("""{"values":null}"""), "W/\"1\"").ProblemAsync(HttpStatusCode.BadRequest, "values.missing");
        await agent.SendJsonAsync(HttpMethod.Patch, url, new { }, "W/\"1\"").ProblemAsync(HttpStatusCode.BadRequest, "values.missing");
        await agent.SendJsonAsync(HttpMethod.Patch, url, new { values = new { } }, "garbage").ProblemAsync(HttpStatusCode.BadRequest, "if_match_malformed");
        await agent.SendJsonAsync(HttpMethod.Post, "api/customers", JsonNode.Parse("""{"accountId":"a","name":"n","organizationIds":["not-a-guid"]}""")).ProblemAsync(HttpStatusCode.BadRequest, "bad_request");
        await agent.GetAsync("api/organizations?limit=abc").ProblemAsync(HttpStatusCode.BadRequest, "bad_request");
        await agent.GetAsync("api/issue-panel?reporter=" + new string('a', 200)).ProblemAsync(HttpStatusCode.BadRequest, "issue_panel.accounts");
        var unknownRoute = await agent.GetAsync("api/organizations/not-a-guid");
        Assert.Equal(HttpStatusCode.NotFound, unknownRoute.StatusCode);

        var after = await agent.GetAsync($"api/organizations/{org["id"]}").OkJsonAsync();
        Assert.Equal(1, after["version"]!.GetValue<int>());
    }

    private static string OptionId(JsonObject field, string label) =>
        field["options"]!.AsArray().First(o => o!["label"]!.GetValue<string>() == label)!["id"]!.GetValue<string>();
}
