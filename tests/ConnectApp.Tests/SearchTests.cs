using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>
/// The directory search conformance suite: written once against the HTTP API, run per engine (PostgreSQL always;
/// Elasticsearch when ELASTICSEARCH_URL is set). Every write reaches the index only through the outbox, RabbitMQ
/// and the mirror consumer, so each test waits for the mirror to catch up (freshness says nothing is pending).
/// </summary>
[Collection(AppCollection.Name)]
public sealed class SearchTests(ConnectAppFixture app, ElasticsearchApp elasticsearch) : IClassFixture<ElasticsearchApp>
{
    [Theory, PostgresEngine, ElasticsearchEngine]
    public async Task Search_ByFreeText_FindsNamesEmailsIdsAndWordsOfTextValues(string engine)
    {
        var (_, admin, agent) = await SiteAsync(engine);
        await CreateFieldAsync(admin, new { entity = "customer", key = "notes", label = "Notes", type = "paragraph" });
        await CreateAsync(agent, "customers", new { accountId = "557058:alice", name = "Alice Archer", email = "alice@acme.example" });
        await CreateAsync(agent, "customers", new { accountId = "557058:bob", name = "Bob Baker", email = "bob@globex.example", values = new { notes = "Renewal blocked by legal review" } });
        await CreateAsync(agent, "customers", new { accountId = "557058:carol", name = "Carol Cooper", email = "carol@acme.example" });

        Assert.Equal(["Alice Archer", "Carol Cooper"], Names(await SearchAsync(agent, "customers", new { q = "ACME.exa" })));
        Assert.Equal(["Alice Archer"], Names(await SearchAsync(agent, "customers", new { q = "arch" })));
        Assert.Equal(["Carol Cooper"], Names(await SearchAsync(agent, "customers", new { q = "557058:car" })));
        Assert.Equal(["Bob Baker"], Names(await SearchAsync(agent, "customers", new { q = "legal review" })));
        Assert.Empty(Names(await SearchAsync(agent, "customers", new { q = "nobody-matches-this" })));
        var all = await SearchAsync(agent, "customers", new { });
        Assert.Equal(3, all["total"]!.GetValue<long>());
        Assert.True(all["totalExact"]!.GetValue<bool>());
        Assert.Equal(0, all["freshness"]!["pendingChanges"]!.GetValue<long>());
    }

    [Theory, PostgresEngine, ElasticsearchEngine]
    public async Task Search_FiltersOfEveryFieldType_MatchExactlyTheRecordsThatHoldTheValue(string engine)
    {
        var (_, admin, agent) = await SiteAsync(engine);
        await CreateFieldAsync(admin, new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver", "Bronze" } });
        await CreateFieldAsync(admin, new { entity = "organization", key = "tags", label = "Tags", type = "multi-select", options = new[] { "vip", "beta", "churn-risk" } });
        await CreateFieldAsync(admin, new { entity = "organization", key = "active", label = "Active", type = "checkbox" });
        await CreateFieldAsync(admin, new { entity = "organization", key = "seats", label = "Seats", type = "number", decimals = 2 });
        await CreateFieldAsync(admin, new { entity = "organization", key = "renewal", label = "Renewal", type = "date" });
        await CreateFieldAsync(admin, new { entity = "organization", key = "motto", label = "Motto", type = "text" });
        await CreateFieldAsync(admin, new { entity = "organization", key = "owner", label = "Owner", type = "user", visibility = "agents" });
        await CreateFieldAsync(admin, new { entity = "organization", key = "site", label = "Site", type = "url" });
        await CreateAsync(agent, "organizations", new { jsmId = "1", name = "Alpha", values = new { tier = "Gold", tags = new[] { "vip", "beta" }, active = true, seats = 10, renewal = "2026-01-15", motto = "Move fast", owner = "557058:ann", site = "https://alpha.example" } });
        await CreateAsync(agent, "organizations", new { jsmId = "2", name = "Beta", values = new { tier = "Silver", tags = new[] { "beta" }, active = false, seats = 250.5, renewal = "2026-06-30", motto = "Slow and steady" } });
        await CreateAsync(agent, "organizations", new { jsmId = "3", name = "Gamma", values = new { tier = "Gold", tags = new[] { "churn-risk" }, seats = 99.99, owner = "557058:bob" } });
        await CreateAsync(agent, "organizations", new { jsmId = "4", name = "Delta" });

        async Task<List<string>> Filter(params object[] filters) => Names(await SearchAsync(agent, "organizations", new { filters }));

        // select: equals / in (by label, case-insensitive, or by option id) / empty
        Assert.Equal(["Alpha", "Gamma"], await Filter(new { field = "tier", op = "equals", value = "gold" }));
        Assert.Equal(["Alpha", "Beta", "Gamma"], await Filter(new { field = "tier", op = "in", values = new[] { "Gold", "Silver" } }));
        Assert.Equal(["Delta"], await Filter(new { field = "tier", op = "empty" }));
        Assert.Equal(["Alpha", "Beta", "Gamma"], await Filter(new { field = "tier", op = "not-empty" }));
        // multi-select: holds the option / any of the options
        Assert.Equal(["Alpha", "Beta"], await Filter(new { field = "tags", op = "equals", value = "beta" }));
        Assert.Equal(["Alpha", "Gamma"], await Filter(new { field = "tags", op = "in", values = new[] { "vip", "churn-risk" } }));
        // checkbox
        Assert.Equal(["Alpha"], await Filter(new { field = "active", op = "equals", value = true }));
        Assert.Equal(["Beta"], await Filter(new { field = "active", op = "equals", value = false }));
        Assert.Equal(["Delta", "Gamma"], await Filter(new { field = "active", op = "empty" }));
        // number: equals, ranges with each bound
        Assert.Equal(["Alpha"], await Filter(new { field = "seats", op = "equals", value = 10.0 }));
        Assert.Equal(["Alpha", "Gamma"], await Filter(new { field = "seats", op = "range", lt = 250.5 }));
        Assert.Equal(["Beta", "Gamma"], await Filter(new { field = "seats", op = "range", gt = 10, lte = 250.5 }));
        Assert.Equal(["Beta"], await Filter(new { field = "seats", op = "range", gte = 100 }));
        // date ranges
        Assert.Equal(["Alpha"], await Filter(new { field = "renewal", op = "range", gte = "2026-01-01", lt = "2026-02-01" }));
        Assert.Equal(["Alpha", "Beta"], await Filter(new { field = "renewal", op = "range", lte = "2026-06-30" }));
        Assert.Equal(["Beta"], await Filter(new { field = "renewal", op = "equals", value = "2026-06-30" }));
        // text: contains (case-insensitive), equals
        Assert.Equal(["Alpha", "Beta"], await Filter(new { field = "motto", op = "contains", value = "S" }));
        Assert.Equal(["Beta"], await Filter(new { field = "motto", op = "contains", value = "steady" }));
        Assert.Equal(["Alpha"], await Filter(new { field = "motto", op = "equals", value = "Move fast" }));
        Assert.Equal(["Alpha"], await Filter(new { field = "site", op = "contains", value = "alpha." }));
        // user
        Assert.Equal(["Gamma"], await Filter(new { field = "owner", op = "equals", value = "557058:bob" }));
        Assert.Equal(["Alpha", "Gamma"], await Filter(new { field = "owner", op = "in", values = new[] { "557058:ann", "557058:bob" } }));
        // combined: every filter must hold, with free text
        Assert.Equal(["Gamma"], await Filter(new { field = "tier", op = "equals", value = "Gold" }, new { field = "seats", op = "range", gte = 50 }));
        Assert.Equal(["Gamma"], Names(await SearchAsync(agent, "organizations", new { q = "gam", filters = new[] { new { field = "tier", op = "equals", value = "Gold" } } })));
    }

    [Theory, PostgresEngine, ElasticsearchEngine]
    public async Task Search_MembershipFilters_FindCustomersOfAnOrganizationAndOrganizationsOfACustomer(string engine)
    {
        var (_, _, agent) = await SiteAsync(engine);
        var acme = await CreateAsync(agent, "organizations", new { jsmId = "1", name = "Acme" });
        var globex = await CreateAsync(agent, "organizations", new { jsmId = "2", name = "Globex" });
        await CreateAsync(agent, "organizations", new { jsmId = "3", name = "Initech" });
        var ann = await CreateAsync(agent, "customers", new { accountId = "557058:ann", name = "Ann", organizationIds = new[] { acme["id"], globex["id"] } });
        await CreateAsync(agent, "customers", new { accountId = "557058:ben", name = "Ben", organizationIds = new[] { acme["id"] } });
        await CreateAsync(agent, "customers", new { accountId = "557058:cy", name = "Cy" });

        Assert.Equal(["Ann", "Ben"], Names(await SearchAsync(agent, "customers", new { organizationId = acme["id"] })));
        Assert.Equal(["Ann"], Names(await SearchAsync(agent, "customers", new { organizationId = globex["id"] })));
        Assert.Equal(["Acme", "Globex"], Names(await SearchAsync(agent, "organizations", new { customerId = ann["id"] })));
        var customers = (await SearchAsync(agent, "customers", new { q = "ann" }))["values"]!.AsArray();
        Assert.Equal(2, customers[0]!["organizationIds"]!.AsArray().Count);
    }

    [Theory, PostgresEngine, ElasticsearchEngine]
    public async Task Search_SortsByNameOrAField_BothDirections_RecordsWithoutAValueFirstAscending(string engine)
    {
        var (_, admin, agent) = await SiteAsync(engine);
        await CreateFieldAsync(admin, new { entity = "organization", key = "seats", label = "Seats", type = "number" });
        await CreateAsync(agent, "organizations", new { jsmId = "1", name = "bravo", values = new { seats = 5 } });
        await CreateAsync(agent, "organizations", new { jsmId = "2", name = "Alpha", values = new { seats = 50 } });
        await CreateAsync(agent, "organizations", new { jsmId = "3", name = "charlie" });
        await CreateAsync(agent, "organizations", new { jsmId = "4", name = "Delta", values = new { seats = 7 } });

        Assert.Equal(["Alpha", "bravo", "charlie", "Delta"], Names(await SearchAsync(agent, "organizations", new { sort = "name" }), sorted: false));
        Assert.Equal(["Delta", "charlie", "bravo", "Alpha"], Names(await SearchAsync(agent, "organizations", new { sort = "-name" }), sorted: false));
        Assert.Equal(["charlie", "bravo", "Delta", "Alpha"], Names(await SearchAsync(agent, "organizations", new { sort = "seats" }), sorted: false));
        Assert.Equal(["Alpha", "Delta", "bravo", "charlie"], Names(await SearchAsync(agent, "organizations", new { sort = "-seats" }), sorted: false));
    }

    [Theory, PostgresEngine, ElasticsearchEngine]
    public async Task Search_PagingThroughTenThousandResults_WithCursor_HasNoDuplicatesOrGaps(string engine)
    {
        var (_, admin, agent) = await SiteAsync(engine);
        await CreateFieldAsync(admin, new { entity = "organization", key = "size", label = "Size", type = "number" });
        const int count = 10_050;
        var csv = new StringBuilder("jsmId,name,size\n");
        for (var i = 0; i < count; i++)
        {
            // Many equal names and sizes, and some without a size: the id must break ties for paging to be exact.
            csv.Append(i).Append(",Org ").Append(i % 97).Append(',').Append(i % 13 == 0 ? string.Empty : (i % 41).ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        var upload = await agent.PostAsync("api/imports?entity=organization", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv")).OkJsonAsync(HttpStatusCode.Accepted);
        await WaitForImportAsync(agent, upload["id"]!.GetValue<string>());
        await WaitForMirrorAsync(agent, expectedOrganizations: count);

        // By size, both directions, and with a range on the sorted field: beyond 1,000 matches the PostgreSQL engine
        // walks its sort keys (records without a size last descending, first ascending); the order must be exact.
        var inRange = Enumerable.Range(0, count).Count(i => i % 13 != 0 && i % 41 is >= 10 and < 30);
        var sizeRange = new[] { new { field = "size", op = "range", gte = 10, lt = 30 } };
        foreach (var (sort, filters, expected) in new[] { ("name", null, count), ("-size", null, count), ("size", null, count), ("-size", sizeRange, inRange), ("size", sizeRange, inRange) })
        {
            var seen = new HashSet<string>();
            var all = new List<JsonNode>();
            string? cursor = null;
            var pages = 0;
            do
            {
                var page = await SearchAsync(agent, "organizations", new { sort, cursor, limit = 200, filters }, waitForMirror: false);
                Assert.Equal(1000, page["total"]!.GetValue<long>()); // counted up to the cap: "1,000 or more"
                Assert.False(page["totalExact"]!.GetValue<bool>());
                foreach (var record in page["values"]!.AsArray())
                {
                    Assert.True(seen.Add(record!["id"]!.GetValue<string>()), $"duplicate {record["id"]} on page {pages} sorted by {sort}");
                    all.Add(record);
                }

                cursor = page["nextCursor"]?.GetValue<string>();
                pages++;
            }
            while (cursor is not null);

            Assert.Equal(expected, seen.Count);
            Assert.Equal((expected + 199) / 200, pages);
            if (sort != "name")
            {
                // (size, id) strictly in order; no size sorts below every size.
                var descending = sort.StartsWith('-');
                for (var i = 1; i < all.Count; i++)
                {
                    var (a, b) = (SizeAndId(all[i - 1]), SizeAndId(all[i]));
                    var order = a.Size == b.Size ? string.CompareOrdinal(a.Id, b.Id) : Nullable.Compare(a.Size, b.Size);
                    Assert.True(descending ? order > 0 : order < 0, $"sorted by {sort}: {a} before {b}");
                }

                Assert.All(all, r => Assert.True(filters is null || SizeAndId(r).Size is >= 10 and < 30));
            }
        }

        static (decimal? Size, string Id) SizeAndId(JsonNode record) => (record["values"]!["size"]?.GetValue<decimal>(), record["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Search_ReflectsEveryChange_AndShowsTheNewestVersion()
    {
        var (_, admin, agent) = await SiteAsync("postgres");
        await CreateFieldAsync(admin, new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" } });
        var org = await CreateAsync(agent, "organizations", new { jsmId = "1", name = "Acme", values = new { tier = "Gold" } });
        var etag = "W/\"1\"";
        foreach (var tier in new[] { "Silver", "Gold", "Silver" })
        {
            using var response = await agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{org["id"]}/values", new { values = new { tier } }, etag);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            etag = response.Headers.ETag!.ToString();
        }

        var found = (await SearchAsync(agent, "organizations", new { filters = new[] { new { field = "tier", op = "equals", value = "Silver" } } }))["values"]!.AsArray();
        Assert.Single(found);
        Assert.Equal(4, found[0]!["version"]!.GetValue<int>());
        Assert.Empty(Names(await SearchAsync(agent, "organizations", new { filters = new[] { new { field = "tier", op = "equals", value = "Gold" } } })));
    }

    [Fact]
    public async Task Search_IsForAgentsAndReadTokens_PortalCustomersAndWriteOnlyTokensGet403()
    {
        var (site, admin, agent) = await SiteAsync("postgres");
        await CreateAsync(agent, "organizations", new { jsmId = "1", name = "Acme" });
        var customer = app.As(site, SiteRole.Customer);
        await customer.SendJsonAsync(HttpMethod.Post, "api/search/organizations", new { }).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await customer.SendJsonAsync(HttpMethod.Post, "api/search/customers", new { }).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        var reader = Bearer(await TokenAsync(admin, "read"));
        Assert.Equal(["Acme"], Names(await SearchAsync(reader, "organizations", new { q = "acm" })));
        var writer = Bearer(await TokenAsync(admin, "write"));
        await writer.SendJsonAsync(HttpMethod.Post, "api/search/organizations", new { }).ProblemAsync(HttpStatusCode.Forbidden, "api_token.scope");
    }

    [Fact]
    public async Task Search_NeverShowsAnotherSitesRecords_AndAnotherSitesIdsAre404()
    {
        // search_documents has no row-level security (ADR 10): isolation rests on the engine's statement builder. Two
        // sites hold identical-looking data; every kind of query of one site must answer with that site's records only.
        var sites = new List<(HttpClient Agent, HashSet<string> Ids, string OrgId, string CustomerId)>();
        for (var s = 0; s < 2; s++)
        {
            var (_, admin, agent) = await SiteAsync("postgres");
            await CreateFieldAsync(admin, new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" } });
            await CreateFieldAsync(admin, new { entity = "organization", key = "tags", label = "Tags", type = "multi-select", options = new[] { "vip", "beta" } });
            await CreateFieldAsync(admin, new { entity = "organization", key = "active", label = "Active", type = "checkbox" });
            await CreateFieldAsync(admin, new { entity = "organization", key = "seats", label = "Seats", type = "number" });
            await CreateFieldAsync(admin, new { entity = "organization", key = "renewal", label = "Renewal", type = "date" });
            await CreateFieldAsync(admin, new { entity = "organization", key = "motto", label = "Motto", type = "text" });
            await CreateFieldAsync(admin, new { entity = "organization", key = "owner", label = "Owner", type = "user" });
            var ids = new HashSet<string>();
            string? orgId = null;
            for (var i = 0; i < 3; i++)
            {
                var org = await CreateAsync(agent, "organizations", new
                {
                    jsmId = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    name = $"Shared Name {i}",
                    values = new { tier = "Gold", tags = new[] { "vip" }, active = true, seats = 10 + i, renewal = "2026-01-15", motto = "Same words", owner = "557058:same" },
                });
                ids.Add(org["id"]!.GetValue<string>());
                orgId ??= org["id"]!.GetValue<string>();
            }

            var customer = await CreateAsync(agent, "customers", new { accountId = "557058:same", name = "Same Person", email = "same@shared.example", organizationIds = new[] { orgId } });
            ids.Add(customer["id"]!.GetValue<string>());
            sites.Add((agent, ids, orgId!, customer["id"]!.GetValue<string>()));
        }

        var organizationQueries = new object[]
        {
            new { }, new { q = "shared" }, new { q = "Same words" },
            new { filters = new[] { new { field = "tier", op = "equals", value = "Gold" } } },
            new { filters = new[] { new { field = "tags", op = "in", values = new[] { "vip", "beta" } } } },
            new { filters = new[] { new { field = "active", op = "equals", value = (object)true } } },
            new { filters = new[] { new { field = "seats", op = "range", gte = (object)0 } } },
            new { filters = new[] { new { field = "renewal", op = "range", lte = (object)"2026-12-31" } } },
            new { filters = new[] { new { field = "motto", op = "contains", value = (object)"same" } } },
            new { filters = new[] { new { field = "owner", op = "equals", value = (object)"557058:same" } } },
            new { filters = new[] { new { field = "tier", op = "not-empty" } } },
            new { sort = "-seats" }, new { sort = "-name" },
        };
        foreach (var (agent, ids, orgId, customerId) in sites)
        {
            foreach (var body in organizationQueries)
            {
                Assert.All(await AllPagesAsync(agent, "organizations", body), id => Assert.Contains(id, ids));
                Assert.Equal(3, (await SearchAsync(agent, "organizations", body))["total"]!.GetValue<long>());
            }

            foreach (var body in new object[] { new { }, new { q = "same" }, new { q = "@shared.example" }, new { q = "557058:same" }, new { organizationId = orgId } })
            {
                Assert.Equal([customerId], await AllPagesAsync(agent, "customers", body));
            }

            Assert.Equal([orgId], await AllPagesAsync(agent, "organizations", new { customerId }));
        }

        var (agentA, _, _, _) = sites[0];
        var (_, _, orgB, custB) = sites[1];
        await agentA.SendJsonAsync(HttpMethod.Post, "api/search/customers", new { organizationId = orgB }).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await agentA.SendJsonAsync(HttpMethod.Post, "api/search/organizations", new { customerId = custB }).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    /// <summary>Every hit's id, paging one record at a time with the cursor (so paging cannot cross into another site either).</summary>
    private static async Task<List<string>> AllPagesAsync(HttpClient agent, string entity, object body)
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var request = JsonSerializer.SerializeToNode(body)!.AsObject();
            request["limit"] = 1;
            request["cursor"] = cursor;
            var page = await SearchAsync(agent, entity, request);
            ids.AddRange(page["values"]!.AsArray().Select(v => v!["id"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
            Assert.True(ids.Count < 10, "paging did not end");
        }
        while (cursor is not null);

        return ids;
    }

    [Fact]
    public async Task Search_WithBadInput_Answers400WithACode()
    {
        var (_, admin, agent) = await SiteAsync("postgres");
        await CreateFieldAsync(admin, new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold" } });
        await CreateFieldAsync(admin, new { entity = "organization", key = "seats", label = "Seats", type = "number" });

        async Task<JsonObject> Bad(object body, string code = "validation_failed") =>
            await agent.SendJsonAsync(HttpMethod.Post, "api/search/organizations", body).ProblemAsync(HttpStatusCode.BadRequest, code);

        var problem = await Bad(new { filters = new[] { new { field = "nope", op = "equals", value = "x" } } });
        Assert.NotNull(problem["errors"]!["filters[0]"]);
        await Bad(new { filters = new[] { new { field = "tier", op = "equals", value = "Platinum" } } });
        await Bad(new { filters = new[] { new { field = "tier", op = "range", gte = 1 } } });
        await Bad(new { filters = new[] { new { field = "seats", op = "contains", value = "1" } } });
        await Bad(new { filters = new[] { new { field = "seats", op = "range" } } });
        await Bad(new { filters = new[] { new { field = "seats", op = "equals", value = "ten" } } });
        await Bad(new { sort = "nope" });
        await Bad(new { organizationId = Guid.NewGuid() });
        await Bad(new { q = new string('x', 201) });
        await Bad(new { cursor = "not-a-cursor" }, "cursor_malformed");
        await Bad(new { unknown = 1 }, "bad_request");
    }

    [Fact]
    public async Task Mirror_PoisonMessage_IsDeadLetteredWithItsReason_AndTheStreamBehindItKeepsFlowing()
    {
        var (site, _, agent) = await SiteAsync("postgres");
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await PublishRawAsync("record.changed.v1", "{ this is not json", tenantId);
        await CreateAsync(agent, "organizations", new { jsmId = "1", name = "After the poison" });

        Assert.Equal(["After the poison"], Names(await SearchAsync(agent, "organizations", new { })));
        var dead = await GetOneAsync("connectapp.mirror.dead", TimeSpan.FromSeconds(15));
        Assert.NotNull(dead);
        var reason = dead!["properties"]!["headers"]!["x-connectapp-dead-reason"]!.GetValue<string>();
        Assert.Contains("Unreadable record.changed.v1", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Search_SaysHowFarBehindTheMirrorIs_WhileAChangeIsUnapplied()
    {
        var (site, _, agent) = await SiteAsync("postgres");
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        var fresh = await SearchAsync(agent, "organizations", new { });
        Assert.Null(fresh["freshness"]!["oldestPendingAt"]);
        Assert.Equal(0, fresh["freshness"]!["lagSeconds"]!.GetValue<double>());

        // A change written 30 s ago that no consumer has applied (marked sent, so the relay leaves it alone).
        await using (var connection = new Npgsql.NpgsqlConnection(app.DatabaseConnectionString))
        {
            await connection.OpenAsync();
            await using var insert = new Npgsql.NpgsqlCommand(
                "INSERT INTO outbox_messages (tenant_id, type, payload, created_at, sent_at) VALUES (@t, 'record.changed.v1', '{}', now() - interval '30 seconds', now())", connection);
            insert.Parameters.AddWithValue("t", tenantId);
            await insert.ExecuteNonQueryAsync();
        }

        var stale = await SearchAsync(agent, "organizations", new { }, waitForMirror: false);
        Assert.Equal(1, stale["freshness"]!["pendingChanges"]!.GetValue<long>());
        Assert.InRange(stale["freshness"]!["lagSeconds"]!.GetValue<double>(), 29, 120);
    }

    [Fact]
    public async Task Search_ReportsAChangeTheMirrorGaveUpOn_AsFailedNotPending_UntilAReindexAppliesIt()
    {
        var (site, admin, agent) = await SiteAsync("postgres");
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await CreateAsync(agent, "organizations", new { jsmId = "1", name = "Indexed" });

        // A record change whose message no consumer can read: the relay publishes it, the mirror refuses it at once
        // and dead-letters it (as it would one that failed every retry).
        await using (var connection = new Npgsql.NpgsqlConnection(app.DatabaseConnectionString))
        {
            await connection.OpenAsync();
            await using var insert = new Npgsql.NpgsqlCommand(
                "INSERT INTO outbox_messages (tenant_id, type, payload, created_at) VALUES (@t, 'record.changed.v1', '{\"recordId\": \"not a guid\"}', now())", connection);
            insert.Parameters.AddWithValue("t", tenantId);
            await insert.ExecuteNonQueryAsync();
        }

        JsonObject page;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        do
        {
            await Task.Delay(200);
            page = await SearchAsync(agent, "organizations", new { }, waitForMirror: false);
            Assert.True(DateTime.UtcNow < deadline, page["freshness"]!.ToJsonString());
        }
        while (page["freshness"]!["failedChanges"]!.GetValue<long>() == 0);

        Assert.Equal(0, page["freshness"]!["pendingChanges"]!.GetValue<long>()); // not "behind" forever
        Assert.Equal(1, page["freshness"]!["failedChanges"]!.GetValue<long>());

        using (var started = await admin.PostAsync("api/admin/search/reindex", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        }

        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        do
        {
            await Task.Delay(200);
            page = await SearchAsync(agent, "organizations", new { }, waitForMirror: false);
            Assert.True(DateTime.UtcNow < deadline, page["freshness"]!.ToJsonString());
        }
        while (page["freshness"]!["failedChanges"]!.GetValue<long>() != 0);

        Assert.Equal(["Indexed"], Names(page));
    }

    [Fact]
    public async Task Reindex_RebuildsALostIndexFromPostgreSql_WithProgress_AndOnlyForAdminsOfTheSite()
    {
        var (site, admin, agent) = await SiteAsync("postgres");
        for (var i = 0; i < 25; i++)
        {
            await CreateAsync(agent, "organizations", new { jsmId = i.ToString(System.Globalization.CultureInfo.InvariantCulture), name = $"Org {i:00}" });
        }

        Assert.Equal(25, (await SearchAsync(agent, "organizations", new { }))["total"]!.GetValue<long>());
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await using (var connection = new Npgsql.NpgsqlConnection(app.DatabaseConnectionString))
        {
            await connection.OpenAsync();
            await using var wipe = new Npgsql.NpgsqlCommand($"SELECT set_config('app.tenant_id', '{tenantId}', false); DELETE FROM search_documents", connection);
            await wipe.ExecuteNonQueryAsync();
        }

        Assert.Equal(0, (await SearchAsync(agent, "organizations", new { }))["total"]!.GetValue<long>());
        await agent.PostAsync("api/admin/search/reindex", null).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");

        using var started = await admin.PostAsync("api/admin/search/reindex", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var location = started.Headers.Location!.ToString().TrimStart('/');
        JsonObject run;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        do
        {
            await Task.Delay(100);
            run = await admin.GetAsync(location).OkJsonAsync();
            Assert.True(DateTime.UtcNow < deadline, run.ToJsonString());
        }
        while (run["status"]!.GetValue<string>() is "queued" or "running");

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(25, run["done"]!.GetValue<long>());
        Assert.Equal(25, run["total"]!.GetValue<long>());
        Assert.True(run["ratePerSecond"]!.GetValue<double>() > 0);
        Assert.Equal(0, run["etaSeconds"]!.GetValue<double>());
        Assert.Equal(25, (await SearchAsync(agent, "organizations", new { }))["total"]!.GetValue<long>());

        var (_, otherAdmin, _) = await SiteAsync("postgres");
        await otherAdmin.GetAsync(location).ProblemAsync(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task ReindexCommand_RebuildsOneSitesIndexFromPostgreSql_PrintingProgress_AndRefusesAnUnknownSite()
    {
        var (site, _, agent) = await SiteAsync("postgres");
        var other = await app.InstallSiteAsync();
        await app.SeedCustomersAsync(site, 1200); // straight into PostgreSQL: no outbox message, so not in the index
        await app.SeedCustomersAsync(other, 7);
        Assert.Equal(0, (await SearchAsync(agent, "customers", new { }))["total"]!.GetValue<long>());

        var environment = new Dictionary<string, string>
        {
            ["DATABASE_URL"] = app.DatabaseUrl,
            ["RABBITMQ_URL"] = app.Broker.Url,
            ["SECRETS_KEY"] = app.SecretsKey,
        };
        var (exit, output) = await WorkerProcess.RunCommandAsync($"reindex {site.ClientKey}", environment);
        Assert.True(exit == 0, output);
        Assert.Contains($"reindex {site.ClientKey}: 1200/1200 records", output, StringComparison.Ordinal);
        Assert.DoesNotContain(other.ClientKey, output, StringComparison.Ordinal);
        var indexed = await SearchAsync(agent, "customers", new { });
        Assert.Equal(1000, indexed["total"]!.GetValue<long>()); // counted up to the cap
        Assert.False(indexed["totalExact"]!.GetValue<bool>());
        Assert.Equal(1200, await IndexedCountAsync(site));
        Assert.Equal(0, (await SearchAsync(app.As(other, SiteRole.Agent), "customers", new { }))["total"]!.GetValue<long>()); // only the site named

        var (unknown, unknownOutput) = await WorkerProcess.RunCommandAsync("reindex no-such-site", environment);
        Assert.Equal(1, unknown);
        Assert.Contains("no tenant matches 'no-such-site'", unknownOutput, StringComparison.Ordinal);
    }

    private async Task<long> IndexedCountAsync(SimulatedSite site)
    {
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await using var connection = new Npgsql.NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM search_documents WHERE tenant_id = @t", connection);
        count.Parameters.AddWithValue("t", tenantId);
        return (long)(await count.ExecuteScalarAsync())!;
    }

    private async Task<(SimulatedSite Site, HttpClient Admin, HttpClient Agent)> SiteAsync(string engine)
    {
        // The Elasticsearch rows are skipped unless ELASTICSEARCH_URL is set (ElasticsearchEngineAttribute); then a second app searches with it.
        var target = engine == "postgres" ? app : elasticsearch.App ?? throw new InvalidOperationException("ELASTICSEARCH_URL is not set");
        var site = await target.InstallSiteAsync();
        return (site, target.As(site, SiteRole.Admin), target.As(site, SiteRole.Agent));
    }

    private static List<string> Names(JsonObject page, bool sorted = true)
    {
        var names = page["values"]!.AsArray().Select(v => v!["name"]!.GetValue<string>());
        return sorted ? names.Order(StringComparer.Ordinal).ToList() : names.ToList();
    }

    /// <summary>Searches once the mirror has applied every change of the site (freshness: nothing pending), as a UI would show it.</summary>
    private static async Task<JsonObject> SearchAsync(HttpClient client, string entity, object body, bool waitForMirror = true)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var page = await client.SendJsonAsync(HttpMethod.Post, $"api/search/{entity}", body).OkJsonAsync();
            if (!waitForMirror || page["freshness"]!["pendingChanges"]!.GetValue<long>() == 0)
            {
                return page;
            }

            Assert.True(DateTime.UtcNow < deadline, "the mirror did not catch up within 30 s: " + page["freshness"]!.ToJsonString());
            await Task.Delay(50);
        }
    }

    private static async Task WaitForMirrorAsync(HttpClient agent, int expectedOrganizations)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var page = await SearchAsync(agent, "organizations", new { limit = 1 }, waitForMirror: false);
            if (page["freshness"]!["pendingChanges"]!.GetValue<long>() == 0 && page["total"]!.GetValue<long>() == Math.Min(expectedOrganizations, 1000)
                && page["totalExact"]!.GetValue<bool>() == expectedOrganizations <= 1000)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the mirror did not catch up: " + page.ToJsonString());
            await Task.Delay(200);
        }
    }

    private static async Task WaitForImportAsync(HttpClient agent, string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var job = await agent.GetAsync($"api/imports/{id}").OkJsonAsync();
            if (job["status"]!.GetValue<string>() is "succeeded" or "failed")
            {
                Assert.Equal("succeeded", job["status"]!.GetValue<string>());
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "import did not finish: " + job.ToJsonString());
            await Task.Delay(200);
        }
    }

    private static Task<JsonObject> CreateFieldAsync(HttpClient admin, object body) =>
        admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", body).OkJsonAsync(HttpStatusCode.Created);

    private static Task<JsonObject> CreateAsync(HttpClient agent, string path, object body) =>
        agent.SendJsonAsync(HttpMethod.Post, $"api/{path}", body).OkJsonAsync(HttpStatusCode.Created);

    private static async Task<string> TokenAsync(HttpClient admin, string scope)
    {
        var created = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "search " + scope, scopes = new[] { scope } }).OkJsonAsync(HttpStatusCode.Created);
        var value = created["token"]!.GetValue<string>();
        TestLog.RecordSecret(value);
        return value;
    }

    private HttpClient Bearer(string token)
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Publishes a message to this run's exchange as the relay would, but with whatever body the test wants.</summary>
    private async Task PublishRawAsync(string type, string body, Guid tenantId)
    {
        var factory = new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(app.Broker.Url) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new RabbitMQ.Client.CreateChannelOptions(true, true));
        var properties = new RabbitMQ.Client.BasicProperties
        {
            Persistent = true,
            Type = type,
            MessageId = "poison-" + Guid.NewGuid().ToString("N"),
            Headers = new Dictionary<string, object?> { ["x-connectapp-tenant"] = tenantId.ToString() },
        };
        await channel.BasicPublishAsync("connectapp.events", type, true, properties, Encoding.UTF8.GetBytes(body));
    }

    /// <summary>Reads (and requeues) one message of a queue of this run's vhost, through the management API; null if none arrives in time.</summary>
    private async Task<JsonObject?> GetOneAsync(string queue, TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:15672/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.PostAsync(
                $"api/queues/{app.Broker.VirtualHost}/{queue}/get",
                new StringContent("""{"count":1,"ackmode":"ack_requeue_true","encoding":"auto"}""", Encoding.UTF8, "application/json"));
            if (response.IsSuccessStatusCode && JsonNode.Parse(await response.Content.ReadAsStringAsync()) is JsonArray { Count: > 0 } messages)
            {
                return messages[0]!.AsObject();
            }

            await Task.Delay(200);
        }

        return null;
    }
}
