using System.Net;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

[Collection(AppCollection.Name)]
public sealed class DefinitionsHistoryBulkTests(ConnectAppFixture app)
{
    private async Task<(SimulatedSite Site, HttpClient Admin, HttpClient Agent)> SiteAsync()
    {
        var site = await app.InstallSiteAsync();
        return (site, app.As(site, SiteRole.Admin), app.As(site, SiteRole.Agent));
    }

    private static Task<JsonObject> CreateFieldAsync(HttpClient admin, object definition) =>
        admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", definition).OkJsonAsync(HttpStatusCode.Created);

    private static async Task<string> CreateOrgAsync(HttpClient agent, string jsmId, object? values = null) =>
        (await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId, name = "Org " + jsmId, values }).OkJsonAsync(HttpStatusCode.Created))["id"]!.GetValue<string>();

    [Fact]
    public async Task TypeChange_Lossless_ConvertsEveryValue()
    {
        var (_, admin, agent) = await SiteAsync();
        var field = await CreateFieldAsync(admin, new { entity = "organization", key = "size", label = "Size", type = "text" });
        var a = await CreateOrgAsync(agent, "1", new { size = "42" });
        var b = await CreateOrgAsync(agent, "2", new { size = "-7.5" });

        var changed = await admin.SendJsonAsync(HttpMethod.Post, $"api/admin/fields/{field["id"]}/type", new { type = "number" }, "W/\"1\"").OkJsonAsync();
        Assert.Equal("number", changed["type"]!.GetValue<string>());
        Assert.Equal(42m, (await agent.GetAsync($"api/organizations/{a}").OkJsonAsync())["values"]!["size"]!.GetValue<decimal>());
        Assert.Equal(-7.5m, (await agent.GetAsync($"api/organizations/{b}").OkJsonAsync())["values"]!["size"]!.GetValue<decimal>());
        var history = await agent.GetAsync($"api/organizations/{a}/history").OkJsonAsync();
        Assert.Contains(history["entries"]!.AsArray(), e => e!["action"]!.GetValue<string>() == "value.converted");
    }

    [Fact]
    public async Task TypeChange_Lossy_IsRefusedWithTheValuesThatWouldNotConvert_AndChangesNothing()
    {
        var (_, admin, agent) = await SiteAsync();
        var field = await CreateFieldAsync(admin, new { entity = "organization", key = "code", label = "Code", type = "text" });
        await CreateOrgAsync(agent, "1", new { code = "12" });
        var bad = await CreateOrgAsync(agent, "2", new { code = "007" });
        var worse = await CreateOrgAsync(agent, "3", new { code = "n/a" });

        var problem = await admin.SendJsonAsync(HttpMethod.Post, $"api/admin/fields/{field["id"]}/type", new { type = "number" }, "W/\"1\"")
            .ProblemAsync(HttpStatusCode.Conflict, "field.type_change_lossy");
        var refused = problem["details"]!["values"]!.AsArray().Select(v => v!["recordId"]!.GetValue<string>()).Order().ToArray();
        Assert.Equal(new[] { bad, worse }.Order().ToArray(), refused);
        Assert.Equal(2, problem["details"]!["total"]!.GetValue<int>());

        var after = await admin.GetAsync($"api/fields/{field["id"]}").OkJsonAsync();
        Assert.Equal("text", after["type"]!.GetValue<string>());
        Assert.Equal(1, after["version"]!.GetValue<int>());
        Assert.Equal("007", (await agent.GetAsync($"api/organizations/{bad}").OkJsonAsync())["values"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task TypeChange_TextToSelect_CreatesOptionsFromValues()
    {
        var (_, admin, agent) = await SiteAsync();
        var field = await CreateFieldAsync(admin, new { entity = "organization", key = "plan", label = "Plan", type = "text" });
        var a = await CreateOrgAsync(agent, "1", new { plan = "Gold" });
        await CreateOrgAsync(agent, "2", new { plan = "Silver" });
        await CreateOrgAsync(agent, "3", new { plan = "Gold" });

        var changed = await admin.SendJsonAsync(HttpMethod.Post, $"api/admin/fields/{field["id"]}/type", new { type = "select" }, "W/\"1\"").OkJsonAsync();
        var labels = changed["options"]!.AsArray().Select(o => o!["label"]!.GetValue<string>()).Order().ToArray();
        Assert.Equal(new[] { "Gold", "Silver" }, labels);
        var goldId = changed["options"]!.AsArray().First(o => o!["label"]!.GetValue<string>() == "Gold")!["id"]!.GetValue<string>();
        Assert.Equal(goldId, (await agent.GetAsync($"api/organizations/{a}").OkJsonAsync())["values"]!["plan"]!.GetValue<string>());

        var back = await admin.SendJsonAsync(HttpMethod.Post, $"api/admin/fields/{field["id"]}/type", new { type = "text" }, "W/\"2\"").OkJsonAsync();
        Assert.Null(back["options"]);
        Assert.Equal("Gold", (await agent.GetAsync($"api/organizations/{a}").OkJsonAsync())["values"]!["plan"]!.GetValue<string>());
    }

    [Fact]
    public async Task Options_RenamedRetiredAndReordered_KeepStoredValues()
    {
        var (_, admin, agent) = await SiteAsync();
        var field = await CreateFieldAsync(admin, new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver", "Bronze" } });
        var id = field["id"]!.GetValue<string>();
        string Option(JsonObject f, string label) => f["options"]!.AsArray().First(o => o!["label"]!.GetValue<string>() == label)!["id"]!.GetValue<string>();
        var silver = Option(field, "Silver");
        var org = await CreateOrgAsync(agent, "1", new { tier = "Silver" });

        var renamed = await admin.SendJsonAsync(HttpMethod.Patch, $"api/admin/fields/{id}/options/{silver}", new { label = "Argent" }, "W/\"1\"").OkJsonAsync();
        Assert.Equal(silver, Option(renamed, "Argent"));
        var retired = await admin.SendJsonAsync(HttpMethod.Patch, $"api/admin/fields/{id}/options/{silver}", new { retired = true }, "W/\"2\"").OkJsonAsync();
        var added = await admin.SendJsonAsync(HttpMethod.Post, $"api/admin/fields/{id}/options", new { label = "Platinum" }, "W/\"3\"").OkJsonAsync();
        var order = added["options"]!.AsArray().Select(o => o!["id"]!.GetValue<string>()).Reverse().ToArray();
        var reordered = await admin.SendJsonAsync(HttpMethod.Put, $"api/admin/fields/{id}/options/order", new { optionIds = order }, "W/\"4\"").OkJsonAsync();
        Assert.Equal(order, reordered["options"]!.AsArray().Select(o => o!["id"]!.GetValue<string>()).ToArray());
        Assert.True(retired["options"]!.AsArray().First(o => o!["id"]!.GetValue<string>() == silver)!["retired"]!.GetValue<bool>());

        // The stored value survives rename and retirement; a retired option cannot be chosen again.
        Assert.Equal(silver, (await agent.GetAsync($"api/organizations/{org}").OkJsonAsync())["values"]!["tier"]!.GetValue<string>());
        var other = await CreateOrgAsync(agent, "2");
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{other}/values", new { values = new { tier = "Argent" } }, "W/\"1\"").ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");

        await admin.SendJsonAsync(HttpMethod.Post, $"api/admin/fields/{id}/options", new { label = "gold" }, "W/\"5\"").ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await admin.SendJsonAsync(HttpMethod.Post, $"api/admin/fields/{id}/options", new { label = "Diamond" }, "W/\"1\"").ProblemAsync(HttpStatusCode.PreconditionFailed, "field.version_mismatch");
    }

    [Fact]
    public async Task Definitions_ValidateKeysLimitsAndReorder()
    {
        var (_, admin, _) = await SiteAsync();
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "Bad Key", label = "x", type = "text" }).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "n", label = "N", type = "number", min = 5, max = 1 }).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "t", label = "T", type = "text", options = new[] { "a" } }).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "s", label = "S", type = "select", options = new[] { "a|b" } }).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "planet", key = "p", label = "P", type = "text" }).ProblemAsync(HttpStatusCode.BadRequest, "bad_request");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "p", label = "P", type = "text", surprise = 1 }).ProblemAsync(HttpStatusCode.BadRequest, "bad_request");

        var a = await CreateFieldAsync(admin, new { entity = "organization", key = "a", label = "A", type = "text" });
        var b = await CreateFieldAsync(admin, new { entity = "organization", key = "b", label = "B", type = "text" });
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "a", label = "Again", type = "text" }).ProblemAsync(HttpStatusCode.Conflict, "field.key_taken");

        var ids = new[] { b["id"]!.GetValue<string>(), a["id"]!.GetValue<string>() };
        var reordered = (await admin.SendJsonAsync(HttpMethod.Put, "api/admin/fields/order", new { entity = "organization", fieldIds = ids }).OkJsonAsync(HttpStatusCode.OK, array: true))!;
        var list = await admin.GetAsync("api/fields?entity=organization").OkJsonAsync(HttpStatusCode.OK, array: true);
        Assert.Equal(new[] { "b", "a" }, list.AsArray().Select(f => f!["key"]!.GetValue<string>()).ToArray());
        await admin.SendJsonAsync(HttpMethod.Put, "api/admin/fields/order", new { entity = "organization", fieldIds = ids.Take(1) }).ProblemAsync(HttpStatusCode.BadRequest, "field.reorder_mismatch");

        var archived = await admin.SendJsonAsync(HttpMethod.Patch, $"api/admin/fields/{a["id"]}", new { archived = true }, "W/\"2\"").OkJsonAsync();
        Assert.True(archived["archived"]!.GetValue<bool>());
        var active = await admin.GetAsync("api/fields?entity=organization").OkJsonAsync(HttpStatusCode.OK, array: true);
        Assert.Equal(new[] { "b" }, active.AsArray().Select(f => f!["key"]!.GetValue<string>()).ToArray());
        _ = reordered;
    }

    [Fact]
    public async Task FiveHundredFields_AndAThousandOptions_AreSupported()
    {
        var (_, admin, agent) = await SiteAsync();
        var options = Enumerable.Range(1, 1000).Select(i => $"Option {i}").ToArray();
        await CreateFieldAsync(admin, new { entity = "customer", key = "big", label = "Big", type = "multi-select", options });
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async worker =>
        {
            for (var i = worker; i < 499; i += 4)
            {
                await CreateFieldAsync(admin, new { entity = i % 2 == 0 ? "organization" : "customer", key = $"f{i:000}", label = $"Field {i}", type = "text" });
            }
        }));
        var all = await agent.GetAsync("api/fields").OkJsonAsync(HttpStatusCode.OK, array: true);
        Assert.Equal(500, all.AsArray().Count);
        var big = all.AsArray().First(f => f!["key"]!.GetValue<string>() == "big")!;
        Assert.Equal(1000, big["options"]!.AsArray().Count);
        await admin.SendJsonAsync(HttpMethod.Post, $"api/admin/fields/{big["id"]}/options", new { label = "One too many" }, "W/\"1\"").ProblemAsync(HttpStatusCode.Conflict, "field.option_limit");
    }

    [Fact]
    public async Task History_ListsEveryChange_AndRestoreBringsAValueBack_Audited()
    {
        var (_, admin, agent) = await SiteAsync();
        var field = await CreateFieldAsync(admin, new { entity = "organization", key = "stage", label = "Stage", type = "text" });
        var org = await CreateOrgAsync(agent, "1", new { stage = "lead" });
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{org}/values", new { values = new { stage = "trial" } }, "W/\"1\"").OkJsonAsync();
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{org}/values", new { values = new { stage = "customer" } }, "W/\"2\"").OkJsonAsync();

        var history = (await agent.GetAsync($"api/organizations/{org}/history").OkJsonAsync())["entries"]!.AsArray();
        var sets = history.Where(e => e!["action"]!.GetValue<string>() == "value.set").ToList();
        Assert.Equal(new[] { "customer", "trial", "lead" }, sets.Select(e => e!["newValue"]!.GetValue<string>()).ToArray());
        Assert.Equal("trial", sets[0]!["oldValue"]!.GetValue<string>());
        Assert.All(sets, e => Assert.Equal("stage", e!["fieldKey"]!.GetValue<string>()));
        Assert.All(history, e => Assert.StartsWith("557058:agent", e!["actor"]!.GetValue<string>(), StringComparison.Ordinal));

        var trialEntry = sets[1]!["id"]!.GetValue<long>();
        var restored = await agent.SendJsonAsync(HttpMethod.Post, $"api/history/{trialEntry}/restore", null).OkJsonAsync();
        Assert.Equal("trial", restored["values"]!["stage"]!.GetValue<string>());

        var fieldHistory = (await agent.GetAsync($"api/fields/{field["id"]}/history").OkJsonAsync())["entries"]!.AsArray();
        Assert.Equal("value.restored", fieldHistory[0]!["action"]!.GetValue<string>());
        Assert.Equal("customer", fieldHistory[0]!["oldValue"]!.GetValue<string>());
        Assert.Contains(fieldHistory, e => e!["action"]!.GetValue<string>() == "field.created");
    }

    [Fact]
    public async Task BulkEdit_AppliesToEveryRecord_AuditedPerRecord()
    {
        var (_, admin, agent) = await SiteAsync();
        await CreateFieldAsync(admin, new { entity = "organization", key = "region", label = "Region", type = "select", options = new[] { "EU", "US" } });
        await CreateFieldAsync(admin, new { entity = "organization", key = "note", label = "Note", type = "text" });
        var ids = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            ids.Add(await CreateOrgAsync(agent, i.ToString(System.Globalization.CultureInfo.InvariantCulture), new { note = "old" }));
        }

        var result = await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/values", new JsonObject
        {
            ["entity"] = "organization",
            ["recordIds"] = new JsonArray(ids.Select(i => (JsonNode)JsonValue.Create(i)!).ToArray()),
            ["values"] = new JsonObject { ["region"] = "EU", ["note"] = null },
        }).OkJsonAsync();
        Assert.Equal(30, result["updated"]!.GetValue<int>());
        foreach (var id in ids.Take(3))
        {
            var org = await agent.GetAsync($"api/organizations/{id}").OkJsonAsync();
            Assert.NotNull(org["values"]!["region"]);
            Assert.Null(org["values"]!["note"]);
            var history = (await agent.GetAsync($"api/organizations/{id}/history").OkJsonAsync())["entries"]!.AsArray();
            Assert.Single(history, e => e!["action"]!.GetValue<string>() == "value.set" && e["fieldKey"]?.GetValue<string>() == "region" && e["newValue"] is not null);
            Assert.Single(history, e => e!["action"]!.GetValue<string>() == "value.set" && e["fieldKey"]?.GetValue<string>() == "note" && e["newValue"] is null && e["oldValue"]!.GetValue<string>() == "old");
        }
    }

    [Fact]
    public async Task BulkEdit_IsAllOrNothing()
    {
        var (_, admin, agent) = await SiteAsync();
        await CreateFieldAsync(admin, new { entity = "organization", key = "score", label = "Score", type = "number", max = 10 });
        var a = await CreateOrgAsync(agent, "1", new { score = 1 });
        var b = await CreateOrgAsync(agent, "2", new { score = 2 });

        await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/values", new { entity = "organization", recordIds = new[] { a, b }, values = new { score = 11 } })
            .ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/values", new { entity = "organization", recordIds = new[] { a, b, Guid.NewGuid().ToString() }, values = new { score = 5 } })
            .ProblemAsync(HttpStatusCode.NotFound, "bulk.records_not_found");
        await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/values", new { entity = "customer", recordIds = new[] { a }, values = new { score = 5 } })
            .ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal(1m, (await agent.GetAsync($"api/organizations/{a}").OkJsonAsync())["values"]!["score"]!.GetValue<decimal>());
        Assert.Equal(2m, (await agent.GetAsync($"api/organizations/{b}").OkJsonAsync())["values"]!["score"]!.GetValue<decimal>());
        Assert.Equal(1, (await agent.GetAsync($"api/organizations/{a}").OkJsonAsync())["version"]!.GetValue<int>());
    }

    [Fact]
    public async Task BulkEdit_TenThousandRecords_InOneRequest()
    {
        var (site, admin, agent) = await SiteAsync();
        await CreateFieldAsync(admin, new { entity = "customer", key = "vip", label = "VIP", type = "checkbox" });
        var ids = await app.SeedCustomersAsync(site, 10_000);
        var result = await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/values", new { entity = "customer", recordIds = ids, values = new { vip = true } }).OkJsonAsync();
        Assert.Equal(10_000, result["updated"]!.GetValue<int>());
        Assert.Equal(10_000, await app.CountAuditAsync(site, "value.set"));
        await agent.SendJsonAsync(HttpMethod.Post, "api/bulk/values", new { entity = "customer", recordIds = ids.Append(Guid.NewGuid()).ToArray(), values = new { vip = false } })
            .ProblemAsync(HttpStatusCode.BadRequest, "bulk.size");
    }

    [Fact]
    public async Task IssuePanel_ReturnsReporterParticipantsTheirOrgsAndFields_InOneCall()
    {
        var (_, admin, agent) = await SiteAsync();
        await CreateFieldAsync(admin, new { entity = "customer", key = "lang", label = "Language", type = "text" });
        await CreateFieldAsync(admin, new { entity = "organization", key = "sla", label = "SLA", type = "select", options = new[] { "Gold", "Basic" } });
        var org = await CreateOrgAsync(agent, "77", new { sla = "Gold" });
        await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = "557058:rep", name = "Rep", organizationIds = new[] { org }, values = new { lang = "de" } }).OkJsonAsync(HttpStatusCode.Created);

        var panel = await agent.GetAsync("api/issue-panel?reporter=557058:rep&participants=557058:unknown,557058:rep").OkJsonAsync();
        var people = panel["people"]!.AsArray();
        Assert.Equal(2, people.Count);
        Assert.Equal("de", people[0]!["customer"]!["values"]!["lang"]!.GetValue<string>());
        Assert.Null(people[1]!["customer"]);
        Assert.Equal(org, Assert.Single(panel["organizations"]!.AsArray())!["id"]!.GetValue<string>());
        Assert.Single(panel["customerFields"]!.AsArray());
        Assert.Single(panel["organizationFields"]!.AsArray());
        await agent.GetAsync("api/issue-panel").ProblemAsync(HttpStatusCode.BadRequest, "issue_panel.accounts");
    }

    [Fact]
    public async Task IssuePanel_ShowsADefinitionChangeAtOnce_DespiteItsCatalogCache()
    {
        var (_, admin, agent) = await SiteAsync();
        var first = await CreateFieldAsync(admin, new { entity = "customer", key = "lang", label = "Language", type = "text" });
        var before = await agent.GetAsync("api/issue-panel?reporter=557058:someone").OkJsonAsync();
        Assert.Single(before["customerFields"]!.AsArray());

        await CreateFieldAsync(admin, new { entity = "customer", key = "tz", label = "Time zone", type = "text" });
        await admin.SendJsonAsync(HttpMethod.Patch, $"api/admin/fields/{first["id"]}", new { label = "Spoken language" }, "W/\"1\"").OkJsonAsync();
        var after = await agent.GetAsync("api/issue-panel?reporter=557058:someone").OkJsonAsync();
        Assert.Equal(new[] { "Spoken language", "Time zone" }, after["customerFields"]!.AsArray().Select(f => f!["label"]!.GetValue<string>()).ToArray());
    }

    [Fact]
    public async Task Paging_WalksEveryRecordOnce_AndSearchFilters()
    {
        var (_, _, agent) = await SiteAsync();
        for (var i = 0; i < 23; i++)
        {
            await CreateOrgAsync(agent, "p" + i);
        }

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await agent.GetAsync("api/organizations?limit=5" + (cursor is null ? string.Empty : "&cursor=" + cursor)).OkJsonAsync();
            seen.AddRange(page["values"]!.AsArray().Select(v => v!["id"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        Assert.Equal(23, seen.Distinct().Count());
        Assert.Equal(23, seen.Count);

        var found = await agent.GetAsync("api/organizations?q=org%20p1").OkJsonAsync();
        Assert.Equal(11, found["values"]!.AsArray().Count); // p1, p10..p19
        await agent.GetAsync("api/organizations?cursor=garbage!").ProblemAsync(HttpStatusCode.BadRequest, "cursor_malformed");
    }
}
