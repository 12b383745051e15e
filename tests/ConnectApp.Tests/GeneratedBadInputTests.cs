using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using CsCheck;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>
/// Generated requests (CsCheck) over every operation of the live OpenAPI document, as every kind of caller: admin,
/// agent, customer, API token, nobody. Paths with real, foreign and malformed ids; queries and JSON bodies full of
/// wrong types, huge and deeply nested values, control characters, NUL, invalid UTF-8, SQL and markup. Whatever comes
/// in: never a 5xx, every refusal is application/problem+json with a code, a refused request changes nothing the
/// tenant owns, a customer or a token never gets past an admin endpoint, and nobody gets in without credentials.
/// The test command runs <see cref="ShortRun"/> cases; <c>BAD_INPUT_CASES=10000 dotnet test --filter
/// GeneratedBadInput</c> runs more (see README).
/// </summary>
[Collection(AppCollection.Name)]
public sealed class GeneratedBadInputTests(ConnectAppFixture app)
{
    private const int ShortRun = 400;

    /// <summary>Status recorded when the server closed the connection before answering (a protocol-level refusal).</summary>
    private const int ClosedByServer = 499;

    private enum Caller
    {
        Admin,
        Agent,
        Customer,
        Token,
        Anonymous,
    }

    private sealed record Operation(string Method, string Path, bool HasBody, bool NeedsCredentials);

    private sealed record Case(Caller Caller, int Operation, string[] PathValues, (string Name, string Value)[] Query, Body Body);

    private sealed record Body(string? ContentType, byte[] Bytes, string Description)
    {
        public override string ToString() => $"{ContentType ?? "(none)"} {Description}";
    }

    private static readonly string[] Nasty =
    [
        "", " ", "\0", "a\0b", "\u0001\u001f", "\t\r\n", "' OR 1=1--", "\"; DROP TABLE records; --", "<script>alert(1)</script>", "${jndi:ldap://x}",
        "../../etc/passwd", "%00", "%2e%2e%2f", "\ud800", "\uffff", "😀", "ÿ", "null", "true", "1e309", "-0", "NaN", "9999999999999999999999999999999",
        new string('x', 300), new string('é', 5000), "W/\"1\"", "cat_", "557058:x", Guid.Empty.ToString(), "00000000-0000-0000-0000-00000000000x",
    ];

    private static readonly string[] Keys =
    [
        "values", "name", "jsmId", "accountId", "email", "organizationIds", "key", "label", "description", "type", "entity", "required", "visibility",
        "min", "max", "decimals", "options", "archived", "retired", "fieldIds", "optionIds", "recordIds", "scopes", "note", "tier", "seats", "due", "x",
    ];

    private static readonly Gen<string> NastyString = Gen.Frequency(
        (4, Gen.OneOf(Nasty)),
        (2, Gen.String),
        (1, Gen.Char.Array[0, 40].Select(c => new string(c))));

    private static readonly Gen<JsonNode?> Scalar = Gen.Frequency<JsonNode?>(
        (3, NastyString.Select(s => (JsonNode?)JsonValue.Create(s))),
        (1, Gen.Long.Select(n => (JsonNode?)JsonValue.Create(n))),
        (1, Gen.Double.Where(double.IsFinite).Select(d => (JsonNode?)JsonValue.Create(d))),
        (1, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))),
        (1, Gen.Const((JsonNode?)null)));

    private static readonly Gen<JsonNode?> Json = Gen.Recursive<JsonNode?>((depth, node) => depth > 3
        ? Scalar
        : Gen.Frequency<JsonNode?>(
            (3, Scalar),
            (2, node.Array[0, 4].Select(items => (JsonNode?)new JsonArray(items.Select(i => i?.DeepClone()).ToArray()))),
            (3, Gen.Select(Gen.OneOf(Keys), node, (k, v) => (k, v)).Array[0, 5].Select(pairs =>
            {
                var o = new JsonObject();
                foreach (var (k, v) in pairs)
                {
                    o[k] = v?.DeepClone();
                }

                return (JsonNode?)o;
            }))));

    private static readonly Gen<Body> Bodies = Gen.Frequency(
        (6, Json.Select(n => new Body("application/json", Encoding.UTF8.GetBytes(n?.ToJsonString() ?? "null"), n?.ToJsonString() is { Length: < 200 } t ? t : "json"))),
        (1, Gen.Byte.Array[0, 64].Select(b => new Body("application/json", b, "random bytes"))),
        (1, Gen.Int[1, 3000].Select(d => new Body("application/json", Encoding.UTF8.GetBytes(new string('[', d) + new string(']', d)), $"nesting {d}"))),
        (1, Gen.Const(new Body("application/json", [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d], "invalid UTF-8"))),
        (1, Gen.Const(new Body("application/json", Encoding.UTF8.GetBytes("{\"name\":\"" + new string('n', 2_000_000) + "\"}"), "2 MB string"))),
        (1, Gen.Const(new Body("application/json", Encoding.UTF8.GetBytes("{\"values\":{\"seats\":1e400}}"), "1e400"))),
        (1, NastyString.Select(s => new Body("text/plain", Encoding.UTF8.GetBytes(s), "text"))),
        (1, NastyString.Select(s => new Body("text/csv", Encoding.UTF8.GetBytes("jsmId,name\n" + s), "csv"))),
        (1, Gen.Const(new Body(null, [], "no body"))));

    [Fact]
    public async Task GeneratedRequests_NeverA5xx_AlwaysACodedProblem_AndARefusalChangesNothing()
    {
        // The test command's run is the same every time (a fixed seed: CI stays reproducible); a longer run, asked for
        // with BAD_INPUT_CASES, draws new cases each time (CsCheck prints the seed of any failure to replay it).
        var longRun = int.TryParse(Environment.GetEnvironmentVariable("BAD_INPUT_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n);
        var cases = longRun ? n : ShortRun;
        var world = await WorldAsync();
        var operations = await OperationsAsync();
        var ids = world.Ids;
        var pathValue = Gen.Frequency(
            (5, Gen.OneOf(ids)),
            (2, Gen.Guid.Select(g => g.ToString())),
            (1, Gen.OneOf(world.ForeignIds)),
            (2, NastyString.Select(Uri.EscapeDataString)),
            (1, Gen.OneOf("..", "%2e%2e", "1", "-1", "99999999999999999999", "%00", "a%2Fb", "%C3%28")));
        var query = Gen.Select(Gen.OneOf("q", "cursor", "limit", "entity", "includeArchived", "before", "reporter", "participants", "x"), NastyString, (k, v) => (k, v)).Array[0, 3];
        var gen = Gen.Select(Gen.Enum<Caller>(), Gen.Int[0, operations.Count - 1], pathValue.Array[3], query, Bodies,
            (caller, op, path, q, body) => new Case(caller, op, path, q, body));

        var counts = new Dictionary<int, int>();
        await gen.SampleAsync(
            async c =>
            {
                var operation = operations[c.Operation];
                var before = operation.Method == "GET" ? default : await TenantRows.ChecksumAsync(app.DatabaseConnectionString, world.TenantId);
                var (status, contentType, text) = await SendAsync(world, operation, c);
                lock (counts)
                {
                    counts[status / 100] = counts.GetValueOrDefault(status / 100) + 1;
                }

                var where = $"{c.Caller} {operation.Method} {operation.Path} → {status}: {Truncate(text)}";
                Assert.True(status < 500, "5xx for " + where);
                if (status == ClosedByServer || (string.IsNullOrEmpty(text) && (status is 414 or 431 || (status == 400 && c.PathValues.Any(v => v.Contains("%00", StringComparison.Ordinal))))))
                {
                    // Kestrel itself refuses these at the protocol level, before any app code runs (a request line
                    // over 8 KB, headers too large, a NUL in the decoded path): no middleware can shape that answer,
                    // and nothing changed.
                }
                else if (status >= 400)
                {
                    Assert.True(contentType == "application/problem+json", "not a problem body: " + where);
                    Assert.False(string.IsNullOrEmpty(JsonNode.Parse(text)?["code"]?.GetValue<string>()), "problem without a code: " + where);
                }

                if (c.Caller == Caller.Anonymous && operation.NeedsCredentials && status < 400)
                {
                    Assert.Fail("no credentials, yet " + where);
                }

                if (c.Caller is Caller.Customer or Caller.Token && operation.Path.StartsWith("/api/admin", StringComparison.Ordinal) && status < 400)
                {
                    Assert.Fail("admin endpoint answered a non-admin: " + where);
                }

                if (status == 202)
                {
                    // Accepted background work (an import, a reindex) changes data later: let it finish, so the next
                    // refusal's before/after comparison sees only what that request did.
                    await DrainAsync(world, operation, text);
                }

                if (operation.Method != "GET" && status >= 400)
                {
                    Assert.True(before == await TenantRows.ChecksumAsync(app.DatabaseConnectionString, world.TenantId), "a refused request changed data: " + where);
                }
            },
            seed: longRun ? null : "dNjCyzienP92",
            iter: cases,
            threads: 1,
            print: c => $"{c.Caller} {operations[c.Operation].Method} {operations[c.Operation].Path} path=[{string.Join(",", c.PathValues)}] query=[{Truncate(string.Join("&", c.Query.Select(p => p.Name + "=" + p.Value)))}] body={c.Body}");

        // The run covered both sides: refusals and accepted requests.
        Assert.True(counts.GetValueOrDefault(4) > cases / 4, "few refusals: " + string.Join(", ", counts.Select(p => $"{p.Key}xx={p.Value}")));
        Assert.True(counts.GetValueOrDefault(2) > 0, "nothing accepted: " + string.Join(", ", counts.Select(p => $"{p.Key}xx={p.Value}")));
    }

    private async Task<(int Status, string? ContentType, string Text)> SendAsync(World world, Operation operation, Case c)
    {
        var index = 0;
        var path = System.Text.RegularExpressions.Regex.Replace(operation.Path, "\\{[^}]+\\}", _ => c.PathValues[index++ % c.PathValues.Length]);
        var query = string.Join("&", c.Query.Select(p => Uri.EscapeDataString(p.Name) + "=" + Uri.EscapeDataString(p.Value)));
        using var request = new HttpRequestMessage(new HttpMethod(operation.Method), path.TrimStart('/') + (query.Length > 0 ? "?" + query : string.Empty));
        if (operation.HasBody || c.Body.Bytes.Length > 0)
        {
            request.Content = new ByteArrayContent(c.Body.Bytes);
            if (c.Body.ContentType is { } type)
            {
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(type);
            }
        }

        request.Headers.TryAddWithoutValidation("If-Match", c.PathValues[0].Length % 2 == 0 ? "W/\"1\"" : c.PathValues[0]);
        try
        {
            using var response = await world.Clients[c.Caller].SendAsync(request);
            return ((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e) when (e.InnerException is IOException)
        {
            // Kestrel refused the request line or headers (414/431) and closed the connection while a large body was
            // still being sent: a protocol-level refusal, before any app code.
            return (ClosedByServer, null, "(connection closed by the server)");
        }
    }

    private static async Task DrainAsync(World world, Operation operation, string acceptedBody)
    {
        if (JsonNode.Parse(acceptedBody)?["id"]?.GetValue<string>() is not { } id)
        {
            return;
        }

        var url = operation.Path.StartsWith("/api/imports", StringComparison.Ordinal) ? $"api/imports/{id}"
            : operation.Path.StartsWith("/api/admin/sync", StringComparison.Ordinal) ? $"api/admin/sync/{id}"
            : $"api/admin/search/reindex/{id}";
        var client = operation.Path.StartsWith("/api/imports", StringComparison.Ordinal) ? world.Clients[Caller.Agent] : world.Clients[Caller.Admin];
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            var state = await client.GetAsync(url).OkJsonAsync();
            if (state["status"]?.GetValue<string>() is "succeeded" or "failed")
            {
                return;
            }
        }

        Assert.Fail($"{url} did not finish in 60 s");
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private async Task<IReadOnlyList<Operation>> OperationsAsync()
    {
        var document = await app.Client().GetAsync("/openapi/v1.json").OkJsonAsync();
        var operations = new List<Operation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, operation) in item!.AsObject())
            {
                operations.Add(new Operation(
                    method.ToUpperInvariant(), path, operation!["requestBody"] is not null || method is "post" or "put" or "patch",
                    NeedsCredentials: operation["responses"]?["401"] is not null)); // the document says which need a caller
            }
        }

        Assert.True(operations.Count > 30, $"only {operations.Count} operations in the document");
        return operations;
    }

    private sealed record World(Guid TenantId, IReadOnlyDictionary<Caller, HttpClient> Clients, string[] Ids, string[] ForeignIds);

    private async Task<World> WorldAsync()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        const string customerId = "557058:generated-customer";
        var ids = new List<string>();
        foreach (var (entity, key, type) in new[] { ("organization", "note", "text"), ("organization", "seats", "number"), ("organization", "tier", "select"), ("customer", "due", "date"), ("customer", "tags", "multi-select") })
        {
            var field = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity, key, label = key, type, visibility = "customers-edit", options = type.Contains("select", StringComparison.Ordinal) ? new[] { "A", "B" } : null }).OkJsonAsync(HttpStatusCode.Created);
            ids.Add(field["id"]!.GetValue<string>());
            if (field["options"] is JsonArray { Count: > 0 } options)
            {
                ids.Add(options[0]!["id"]!.GetValue<string>());
            }
        }

        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "g1", name = "Generated", values = new { note = "n", seats = 3, tier = "A" } }).OkJsonAsync(HttpStatusCode.Created);
        var customer = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = customerId, name = "Gen", organizationIds = new[] { org["id"]!.GetValue<string>() } }).OkJsonAsync(HttpStatusCode.Created);
        ids.Add(org["id"]!.GetValue<string>());
        ids.Add(customer["id"]!.GetValue<string>());
        var history = await agent.GetAsync($"api/organizations/{org["id"]}/history").OkJsonAsync();
        ids.AddRange(history["entries"]!.AsArray().Select(e => e!["id"]!.GetValue<long>().ToString(CultureInfo.InvariantCulture)));
        var token = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "generated", scopes = new[] { "read", "write" } }).OkJsonAsync(HttpStatusCode.Created);
        ids.Add(token["id"]!.GetValue<string>());
        TestLog.RecordSecret(token["token"]!.GetValue<string>());
        var tokenClient = app.Client();
        tokenClient.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token["token"]!.GetValue<string>());

        // Another tenant's ids: they must be as good as nonexistent here.
        var other = await app.InstallSiteAsync();
        var foreignOrg = await app.As(other, SiteRole.Agent).SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "f1", name = "Foreign" }).OkJsonAsync(HttpStatusCode.Created);

        var tenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        var clients = new Dictionary<Caller, HttpClient>
        {
            [Caller.Admin] = admin,
            [Caller.Agent] = agent,
            [Caller.Customer] = app.As(site, SiteRole.Customer, customerId),
            [Caller.Token] = tokenClient,
            [Caller.Anonymous] = app.Client(),
        };
        return new World(tenant, clients, [.. ids], [foreignOrg["id"]!.GetValue<string>()]);
    }
}
