using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Npgsql;

namespace ConnectApp.Tests;

[Collection(AppCollection.Name)]
public sealed class CsvTests(ConnectAppFixture app)
{
    [Fact]
    public async Task Import_WithGoodAndBadRows_AppliesGoodRowsAndReportsEachBadCell()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await CreateFieldAsync(admin, new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" } });
        await CreateFieldAsync(admin, new { entity = "organization", key = "seats", label = "Seats", type = "number", min = 0, decimals = 0 });
        await CreateFieldAsync(admin, new { entity = "organization", key = "since", label = "Since", type = "date" });
        var keep = await CreateAsync(agent, "organizations", new { jsmId = "100", name = "Keep", values = new { tier = "Gold", seats = 5, since = "2020-01-01" } });
        var bad = await CreateAsync(agent, "organizations", new { jsmId = "101", name = "Bad", values = new { seats = 1 } });
        var auditBefore = await AuditCountAsync(site);

        var csv = """
            jsmId,name,tier,seats
            100,Keep,silver,7
            101,Bad renamed,Platinum,x
            102,New,Gold,3
            103,,Gold,1
            ,Nameless,Gold,1
            104,Short
            """;
        var job = await WaitForAsync(agent, await UploadAsync(agent, "organization", csv));

        Assert.Equal("succeeded", job["status"]!.GetValue<string>());
        Assert.Equal(6, job["total"]!.GetValue<int>());
        Assert.Equal(6, job["done"]!.GetValue<int>());
        Assert.Equal(4, job["failed"]!.GetValue<int>());
        Assert.Equal(2, job["applied"]!.GetValue<int>());

        var errors = (await agent.GetAsync($"api/imports/{job["id"]}/errors").OkJsonAsync())["values"]!.AsArray()
            .Select(e => (e!["row"]!.GetValue<int>(), e["column"]?.GetValue<string>(), e["reason"]!.GetValue<string>())).ToList();
        Assert.Equal([(3, "tier"), (3, "seats"), (5, "name"), (6, "jsmId"), (7, null)], errors.Select(e => (e.Item1, e.Item2)).ToList());
        Assert.Contains("unknown or retired option", errors[0].Item3, StringComparison.Ordinal);
        Assert.Contains("number", errors[1].Item3, StringComparison.Ordinal);
        Assert.Contains("header has 4", errors[4].Item3, StringComparison.Ordinal);

        // Good rows applied (a column missing from the file, since, is untouched); the bad row's record is untouched.
        var kept = await agent.GetAsync($"api/organizations/{keep["id"]}").OkJsonAsync();
        Assert.Equal(7, kept["values"]!["seats"]!.GetValue<decimal>());
        Assert.Equal("2020-01-01", kept["values"]!["since"]!.GetValue<string>());
        Assert.NotEqual(keep["values"]!["tier"]!.GetValue<string>(), kept["values"]!["tier"]!.GetValue<string>());
        var untouched = await agent.GetAsync($"api/organizations/{bad["id"]}").OkJsonAsync();
        Assert.Equal(bad.ToJsonString(), untouched.ToJsonString());
        var list = await agent.GetAsync("api/organizations?limit=50").OkJsonAsync();
        Assert.Equal(["Bad", "Keep", "New"], list["values"]!.AsArray().Select(r => r!["name"]!.GetValue<string>()).ToList());

        // Audit: record 100 tier + seats, record 102 created + tier + seats; nothing for the bad rows.
        Assert.Equal(auditBefore + 5, await AuditCountAsync(site));

        var report = await agent.GetStringAsync($"api/imports/{job["id"]}/errors.csv");
        Assert.StartsWith("row,column,reason", report, StringComparison.Ordinal);
        Assert.Contains("7,,has 2 cells", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportThenReimport_ChangesNothing_AndValuesOfEveryTypeReadBackIdentically()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        object[] fields =
        [
            new { entity = "customer", key = "nick", label = "Nick", type = "text" },
            new { entity = "customer", key = "notes", label = "Notes", type = "paragraph" },
            new { entity = "customer", key = "score", label = "Score", type = "number", decimals = 2 },
            new { entity = "customer", key = "renewal", label = "Renewal", type = "date" },
            new { entity = "customer", key = "plan", label = "Plan", type = "select", options = new[] { "Free", "Pro, annual" } },
            new { entity = "customer", key = "tags", label = "Tags", type = "multi-select", options = new[] { "vip", "beta", "\"quoted\"" } },
            new { entity = "customer", key = "active", label = "Active", type = "checkbox" },
            new { entity = "customer", key = "billing", label = "Billing", type = "email" },
            new { entity = "customer", key = "site", label = "Site", type = "url" },
            new { entity = "customer", key = "phone", label = "Phone", type = "phone" },
            new { entity = "customer", key = "owner", label = "Owner", type = "user" },
        ];
        foreach (var field in fields)
        {
            await CreateFieldAsync(admin, field);
        }

        var o1 = await CreateAsync(agent, "organizations", new { jsmId = "o1", name = "Org one" });
        var o2 = await CreateAsync(agent, "organizations", new { jsmId = "o2", name = "Org, two" });
        var full = await CreateAsync(agent, "customers", new
        {
            accountId = "557058:full",
            name = "Zoë \"Z\" Ödegaard",
            email = "zoe@example.com",
            organizationIds = new[] { o1["id"]!.GetValue<string>(), o2["id"]!.GetValue<string>() },
            values = new
            {
                nick = "  spaced, and \"quoted\" ",
                notes = "line one\nline two, with comma\r\n\"and quotes\"",
                score = 12.5,
                renewal = "2024-02-29",
                plan = "Pro, annual",
                tags = new[] { "vip", "\"quoted\"" },
                active = false,
                billing = "billing@example.com",
                site = "https://example.com/a?b=c&d=e",
                phone = "+44 20 7946 0000",
                owner = "557058:owner-1",
            },
        });
        var empty = await CreateAsync(agent, "customers", new { accountId = "557058:empty", name = "=SUM(A1)" });
        var auditBefore = await AuditCountAsync(site);

        using var response = await agent.GetAsync("api/customers/export.csv");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var export = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("accountId,email,name,organizations,nick,notes,score,renewal,plan,tags,active,billing,site,phone,owner\r\n", export, StringComparison.Ordinal);
        Assert.Contains("o1|o2", export, StringComparison.Ordinal);

        var job = await WaitForAsync(agent, await UploadAsync(agent, "customer", export));
        Assert.Equal("succeeded", job["status"]!.GetValue<string>());
        Assert.Equal(2, job["total"]!.GetValue<int>());
        Assert.Equal(0, job["failed"]!.GetValue<int>());

        // Nothing changed: no audit rows, same versions, same values, and the next export is byte-identical.
        Assert.Equal(auditBefore, await AuditCountAsync(site));
        Assert.Equal(full.ToJsonString(), (await agent.GetAsync($"api/customers/{full["id"]}").OkJsonAsync()).ToJsonString());
        Assert.Equal(empty.ToJsonString(), (await agent.GetAsync($"api/customers/{empty["id"]}").OkJsonAsync()).ToJsonString());
        Assert.Equal(export, await agent.GetStringAsync("api/customers/export.csv"));

        // Every type reads back (parsed, not just recognised as unchanged): the same files into a fresh site with the
        // same fields create records whose export is identical.
        var organizations = await agent.GetStringAsync("api/organizations/export.csv");
        Assert.Equal("jsmId,name\r\no1,Org one\r\no2,\"Org, two\"\r\n", organizations);
        var other = await app.InstallSiteAsync();
        var otherAdmin = app.As(other, SiteRole.Admin);
        var otherAgent = app.As(other, SiteRole.Agent);
        foreach (var field in fields)
        {
            await CreateFieldAsync(otherAdmin, field);
        }

        Assert.Equal("succeeded", (await WaitForAsync(otherAgent, await UploadAsync(otherAgent, "organization", organizations)))["status"]!.GetValue<string>());
        var copy = await WaitForAsync(otherAgent, await UploadAsync(otherAgent, "customer", export));
        Assert.Equal(0, copy["failed"]!.GetValue<int>());
        Assert.Equal(2, copy["applied"]!.GetValue<int>());
        Assert.Equal(export, await otherAgent.GetStringAsync("api/customers/export.csv"));
        var copied = (await otherAgent.GetAsync("api/customers?q=full").OkJsonAsync())["values"]![0]!;
        Assert.Equal(full["values"]!["notes"]!.GetValue<string>(), copied["values"]!["notes"]!.GetValue<string>());
        Assert.Equal(full["values"]!["nick"]!.GetValue<string>(), copied["values"]!["nick"]!.GetValue<string>());
        Assert.Equal(12.5m, copied["values"]!["score"]!.GetValue<decimal>());
        Assert.False(copied["values"]!["active"]!.GetValue<bool>());
        Assert.Equal("zoe@example.com", copied["email"]!.GetValue<string>());
    }

    [Fact]
    public async Task ImportThatChangesValues_SetsAndClearsThem_AndAuditsPerField()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await CreateFieldAsync(admin, new { entity = "customer", key = "tags", label = "Tags", type = "multi-select", options = new[] { "vip", "beta" } });
        await CreateFieldAsync(admin, new { entity = "customer", key = "nick", label = "Nick", type = "text" });
        await CreateAsync(agent, "organizations", new { jsmId = "o1", name = "One" });
        var c = await CreateAsync(agent, "customers", new { accountId = "557058:c", name = "C", values = new { nick = "old", tags = new[] { "vip" } } });

        var csv = "accountId,organizations,tags,nick\n557058:c,o1,vip|beta,\n557058:d,o1|nope,,\n";
        var job = await WaitForAsync(agent, await UploadAsync(agent, "customer", csv));

        Assert.Equal(1, job["failed"]!.GetValue<int>());
        var errors = (await agent.GetAsync($"api/imports/{job["id"]}/errors").OkJsonAsync())["values"]!.AsArray();
        Assert.Equal(["name", "organizations"], errors.Select(e => e!["column"]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList());
        Assert.Contains(errors, e => e!["reason"]!.GetValue<string>().Contains("nope", StringComparison.Ordinal));
        Assert.All(errors, e => Assert.Equal(3, e!["row"]!.GetValue<int>()));
        var updated = await agent.GetAsync($"api/customers/{c["id"]}").OkJsonAsync();
        Assert.Equal(2, updated["values"]!["tags"]!.AsArray().Count);
        Assert.Null(updated["values"]!["nick"]); // an empty cell clears
        Assert.Single(updated["organizationIds"]!.AsArray());
        Assert.Equal("C", updated["name"]!.GetValue<string>()); // no name column: untouched
        Assert.Equal(2, updated["version"]!.GetValue<int>());
    }

    [Fact]
    public async Task Upload_WithBadHeaderOrBody_IsRefusedAndStoresNothing()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        var archived = await CreateFieldAsync(admin, new { entity = "organization", key = "old", label = "Old", type = "text" });
        await admin.SendJsonAsync(HttpMethod.Patch, $"api/admin/fields/{archived["id"]}", new { archived = true }, $"W/\"{archived["version"]}\"").OkJsonAsync();

        var problem = await Post(agent, "organization", "name,bogus,old,name\nAcme,1,2,3\n").ProblemAsync(HttpStatusCode.BadRequest, "import.header_invalid");
        var errors = problem["errors"]!.AsObject();
        Assert.Equal(["bogus", "jsmId", "name", "old"], errors.Select(e => e.Key).Order(StringComparer.Ordinal).ToList());

        await Post(agent, "organization", string.Empty).ProblemAsync(HttpStatusCode.BadRequest, "import.empty");
        await Post(agent, "customer", "jsmId,name\n1,x\n").ProblemAsync(HttpStatusCode.BadRequest, "import.header_invalid");
        await Post(agent, "team", "jsmId,name\n1,x\n").ProblemAsync(HttpStatusCode.BadRequest, "import.entity");
        await Post(agent, "organization", "jsmId,name\n1,x\n", "application/json").ProblemAsync(HttpStatusCode.UnsupportedMediaType, "import.unsupported_media_type");
        var latin1 = new ByteArrayContent([.. "jsmId,name\n1,"u8, 0xE9, (byte)'\n']);
        latin1.Headers.ContentType = new("text/csv");
        await agent.PostAsync("api/imports?entity=organization", latin1).ProblemAsync(HttpStatusCode.BadRequest, "import.encoding");

        Assert.Equal(0, await CountAsync(site, "import_jobs"));
        Assert.Equal(0, await CountAsync(site, "import_file_chunks"));
    }

    [Fact]
    public async Task Progress_IsReadableAndLocationPointsAtTheJob()
    {
        var site = await app.InstallSiteAsync();
        var agent = app.As(site, SiteRole.Agent);
        using var response = await Post(agent, "organization", "jsmId,name\n1,One\n2,Two\n");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        Assert.Equal("queued", accepted["status"]!.GetValue<string>());
        Assert.Equal($"/api/imports/{accepted["id"]}", response.Headers.Location!.ToString());

        var job = await WaitForAsync(agent, accepted["id"]!.GetValue<string>());
        Assert.Equal(2, job["total"]!.GetValue<int>());
        Assert.Equal(2, job["done"]!.GetValue<int>());
        Assert.Equal(0, job["failed"]!.GetValue<int>());
        Assert.NotNull(job["finishedAt"]);
        Assert.Equal(0, await CountAsync(site, "import_file_chunks")); // the stored file is dropped when the job ends
        await WaitForImportMessageAppliedAsync(accepted["id"]!.GetValue<string>()); // the worker acknowledged its outbox message
    }

    [Fact]
    public async Task Customer_IsForbiddenEverything()
    {
        var site = await app.InstallSiteAsync();
        var agent = app.As(site, SiteRole.Agent);
        var customer = app.As(site, SiteRole.Customer);
        var id = await UploadAsync(agent, "organization", "jsmId,name\n1,One\n");

        await customer.GetAsync("api/organizations/export.csv").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await customer.GetAsync("api/customers/export.csv").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await Post(customer, "organization", "jsmId,name\n2,Two\n").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await customer.GetAsync($"api/imports/{id}").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await customer.GetAsync($"api/imports/{id}/errors").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await customer.GetAsync($"api/imports/{id}/errors.csv").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task JobOfAnotherTenant_Is404()
    {
        var a = await InstallSiteAsync();
        var b = await InstallSiteAsync();
        var agentA = app.As(a, SiteRole.Agent);
        var agentB = app.As(b, SiteRole.Agent);
        var id = await UploadAsync(agentA, "organization", "jsmId,name\n1,One\n,bad\n");
        await WaitForAsync(agentA, id);

        await agentB.GetAsync($"api/imports/{id}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await agentB.GetAsync($"api/imports/{id}/errors").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await agentB.GetAsync($"api/imports/{id}/errors.csv").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        Assert.Equal("jsmId,name\r\n", await agentB.GetStringAsync("api/organizations/export.csv"));
    }

    [Fact]
    public async Task ImportOfThousandsOfRows_Completes()
    {
        const int rows = 5000;
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await CreateFieldAsync(admin, new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" } });
        await CreateFieldAsync(admin, new { entity = "organization", key = "seats", label = "Seats", type = "number" });
        var csv = new StringBuilder("jsmId,name,tier,seats\n");
        for (var i = 0; i < rows; i++)
        {
            csv.Append(System.Globalization.CultureInfo.InvariantCulture, $"{i},Org {i:D5},{(i % 2 == 0 ? "Gold" : "Silver")},{i}\n");
        }

        var job = await WaitForAsync(agent, await UploadAsync(agent, "organization", csv.ToString()), TimeSpan.FromMinutes(3));

        Assert.Equal("succeeded", job["status"]!.GetValue<string>());
        Assert.Equal(rows, job["total"]!.GetValue<int>());
        Assert.Equal(rows, job["done"]!.GetValue<int>());
        Assert.Equal(0, job["failed"]!.GetValue<int>());
        var page = await agent.GetAsync("api/organizations?q=Org%2004999").OkJsonAsync();
        Assert.Equal(4999, page["values"]![0]!["values"]!["seats"]!.GetValue<decimal>());
        var export = await agent.GetStringAsync("api/organizations/export.csv");
        Assert.Equal(rows + 1, export.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Export_GuardsFormulaCells_AndTheGuardRoundTrips()
    {
        var site = await InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await CreateFieldAsync(admin, new { entity = "organization", key = "note", label = "Note", type = "text" });
        await CreateFieldAsync(admin, new { entity = "organization", key = "phone", label = "Phone", type = "phone" });
        var org = await CreateAsync(agent, "organizations", new { jsmId = "9", name = "=cmd|' /C calc'!A0", values = new { note = "'=already quoted", phone = "+49 30 1234567" } });

        var export = await agent.GetStringAsync("api/organizations/export.csv");
        var line = export.Split('\n')[1];
        Assert.Contains("'=cmd", line, StringComparison.Ordinal); // a spreadsheet shows it as text instead of running it
        Assert.Contains("'+49 30 1234567", line, StringComparison.Ordinal);
        Assert.Contains("''=already quoted", line, StringComparison.Ordinal);

        var job = await WaitForAsync(agent, await UploadAsync(agent, "organization", export));
        Assert.Equal(0, job["failed"]!.GetValue<int>());
        var after = await agent.GetAsync($"api/organizations/{org["id"]}").OkJsonAsync();
        Assert.Equal("=cmd|' /C calc'!A0", after["name"]!.GetValue<string>());
        Assert.Equal("'=already quoted", after["values"]!["note"]!.GetValue<string>());
        Assert.Equal("+49 30 1234567", after["values"]!["phone"]!.GetValue<string>());
        Assert.Equal(1, after["version"]!.GetValue<int>()); // nothing changed
    }

    private Task<SimulatedSite> InstallSiteAsync() => app.InstallSiteAsync();

    private static Task<HttpResponseMessage> Post(HttpClient client, string entity, string csv, string contentType = "text/csv") =>
        client.PostAsync($"api/imports?entity={entity}", new StringContent(csv, Encoding.UTF8, contentType));

    private static async Task<string> UploadAsync(HttpClient client, string entity, string csv) =>
        (await Post(client, entity, csv).OkJsonAsync(HttpStatusCode.Accepted))["id"]!.GetValue<string>();

    /// <summary>Polls the job until it ends, for at most <paramref name="timeout"/> (default 60 s).</summary>
    private static async Task<JsonObject> WaitForAsync(HttpClient client, string id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var job = await client.GetAsync($"api/imports/{id}").OkJsonAsync();
            var status = job["status"]!.GetValue<string>();
            if (status is "succeeded" or "failed")
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"import {id} still {status} after the timeout: {job.ToJsonString()}");
            await Task.Delay(200);
        }
    }

    private static Task<JsonObject> CreateFieldAsync(HttpClient admin, object body) =>
        admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", body).OkJsonAsync(HttpStatusCode.Created);

    private static Task<JsonObject> CreateAsync(HttpClient agent, string path, object body) =>
        agent.SendJsonAsync(HttpMethod.Post, $"api/{path}", body).OkJsonAsync(HttpStatusCode.Created);

    private Task<long> AuditCountAsync(SimulatedSite site) => CountAsync(site, "audit_entries");

    /// <summary>Rows of <paramref name="table"/> the site's tenant owns, read as the app's role under row-level security.</summary>
    private async Task<long> CountAsync(SimulatedSite site, string table)
    {
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using (var set = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{tenantId}', false)", connection))
        {
            await set.ExecuteNonQueryAsync();
        }

        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table}", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Waits until the import's outbox message has been handled by a worker (marked applied before the ack).</summary>
    private async Task WaitForImportMessageAppliedAsync(string importId)
    {
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT count(*) FROM outbox_messages WHERE type = 'import.requested.v1' AND payload->>'importId' = @id AND applied_at IS NOT NULL", connection);
            command.Parameters.AddWithValue("id", importId);
            if ((long)(await command.ExecuteScalarAsync())! == 1)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the import's message was not applied");
            await Task.Delay(100);
        }
    }
}
