using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using NJsonSchema;

namespace ConnectApp.Tests;

/// <summary>
/// Every operation of the live OpenAPI document is called, and each answer is checked against the document: its
/// status is one the operation declares, and its body validates (NJsonSchema) against the schema declared for that
/// status and content type. A generated client can trust the document.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class OpenApiConformanceTests(ConnectAppFixture app)
{
    [Fact]
    public async Task EveryOperation_AnswersWithADeclaredStatus_AndABodyTheDeclaredSchemaAccepts()
    {
        var document = await app.Client().GetAsync("/openapi/v1.json").OkJsonAsync();
        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(m => (Method: m.Key.ToUpperInvariant(), Path: p.Key)))
            .ToHashSet();
        var checkedOperations = new HashSet<(string Method, string Path)>();
        var problems = new List<string>();
        var schemas = new Dictionary<string, JsonSchema>();

        async Task CallAsync(HttpClient client, string method, string template, string path, object? body = null, string? ifMatch = null, HttpContent? content = null)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'));
            if (content is not null)
            {
                request.Content = content;
            }
            else if (body is not null)
            {
                request.Content = new StringContent(body is JsonNode n ? n.ToJsonString() : System.Text.Json.JsonSerializer.Serialize(body, System.Text.Json.JsonSerializerOptions.Web), Encoding.UTF8, "application/json");
            }

            if (ifMatch is not null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }

            using var response = await client.SendAsync(request);
            checkedOperations.Add((method, template));
            var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var declared = document["paths"]![template]?[method.ToLowerInvariant()]?["responses"]?.AsObject();
            if (declared is null)
            {
                problems.Add($"{method} {template}: not in the document");
                return;
            }

            if (declared[status] is not { } declaredResponse)
            {
                problems.Add($"{method} {template}: answered {status}, the document declares {string.Join(", ", declared.Select(r => r.Key))}");
                return;
            }

            var text = await response.Content.ReadAsStringAsync();
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (text.Length == 0 || mediaType is null || !mediaType.EndsWith("json", StringComparison.Ordinal))
            {
                return;
            }

            if (declaredResponse["content"]?[mediaType]?["schema"] is not { } schemaNode)
            {
                problems.Add($"{method} {template} {status}: answered {mediaType}, the document declares {declaredResponse["content"]?.AsObject().Select(c => c.Key).FirstOrDefault() ?? "no body"}");
                return;
            }

            var key = schemaNode.ToJsonString();
            if (!schemas.TryGetValue(key, out var schema))
            {
                var root = new JsonObject
                {
                    ["allOf"] = new JsonArray(schemaNode.DeepClone()),
                    ["definitions"] = document["components"]?["schemas"]?.DeepClone() ?? new JsonObject(),
                };
                schemas[key] = schema = await JsonSchema.FromJsonAsync(root.ToJsonString().Replace("#/components/schemas/", "#/definitions/", StringComparison.Ordinal));
            }

            foreach (var error in schema.Validate(text))
            {
                problems.Add($"{method} {template} {status}: {error.Path} {error.Kind}");
            }
        }

        // A site with a field of each kind the calls need, an organization, a customer in it, history, an import and a token.
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        const string customerId = "557058:openapi-customer";
        var customer = app.As(site, SiteRole.Customer, customerId);
        var tier = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" }, visibility = "customers-edit" }).OkJsonAsync(HttpStatusCode.Created);
        var note = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "note", label = "Note", type = "text", visibility = "customers-edit" }).OkJsonAsync(HttpStatusCode.Created);
        var tierId = tier["id"]!.GetValue<string>();
        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Acme", values = new { tier = "Gold" } }).OkJsonAsync(HttpStatusCode.Created);
        var orgId = org["id"]!.GetValue<string>();
        var cust = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = customerId, name = "Cory", organizationIds = new[] { orgId }, values = new { note = "n" } }).OkJsonAsync(HttpStatusCode.Created);
        var custId = cust["id"]!.GetValue<string>();

        await CallAsync(app.Client(), "GET", "/atlassian-connect.json", "/atlassian-connect.json");
        await CallAsync(agent, "GET", "/api/whoami", "/api/whoami");
        await CallAsync(app.Client(), "GET", "/api/whoami", "/api/whoami");
        await CallAsync(agent, "GET", "/api/fields", "/api/fields");
        await CallAsync(agent, "GET", "/api/fields/{id}", $"/api/fields/{tierId}");
        await CallAsync(agent, "GET", "/api/fields/{id}", $"/api/fields/{Guid.NewGuid()}");
        await CallAsync(agent, "GET", "/api/fields/{id}/history", $"/api/fields/{tierId}/history");
        await CallAsync(admin, "POST", "/api/admin/fields", "/api/admin/fields", new { entity = "organization", key = "seats", label = "Seats", type = "number" });
        await CallAsync(admin, "POST", "/api/admin/fields", "/api/admin/fields", new { entity = "organization", key = "BAD KEY", label = "", type = "text" });
        await CallAsync(customer, "POST", "/api/admin/fields", "/api/admin/fields", new { entity = "organization", key = "x", label = "X", type = "text" });
        var current = await agent.GetAsync($"api/fields/{tierId}").OkJsonAsync();
        await CallAsync(admin, "PATCH", "/api/admin/fields/{id}", $"/api/admin/fields/{tierId}", new { label = "Tier level" }, $"W/\"{current["version"]}\"");
        await CallAsync(admin, "PATCH", "/api/admin/fields/{id}", $"/api/admin/fields/{tierId}", new { label = "Stale" }, "W/\"1\"");
        await CallAsync(admin, "PATCH", "/api/admin/fields/{id}", $"/api/admin/fields/{tierId}", new { label = "No If-Match" });
        current = await agent.GetAsync($"api/fields/{tierId}").OkJsonAsync();
        await CallAsync(admin, "POST", "/api/admin/fields/{id}/options", $"/api/admin/fields/{tierId}/options", new { label = "Bronze" }, $"W/\"{current["version"]}\"");
        current = await agent.GetAsync($"api/fields/{tierId}").OkJsonAsync();
        var optionIds = current["options"]!.AsArray().Select(o => o!["id"]!.GetValue<string>()).ToList();
        await CallAsync(admin, "PATCH", "/api/admin/fields/{id}/options/{optionId}", $"/api/admin/fields/{tierId}/options/{optionIds[2]}", new { label = "Copper" }, $"W/\"{current["version"]}\"");
        current = await agent.GetAsync($"api/fields/{tierId}").OkJsonAsync();
        await CallAsync(admin, "PUT", "/api/admin/fields/{id}/options/order", $"/api/admin/fields/{tierId}/options/order", new { optionIds = optionIds.AsEnumerable().Reverse() }, $"W/\"{current["version"]}\"");
        var orgFieldIds = (await agent.GetAsync("api/fields?entity=organization").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray().Select(f => f!["id"]!.GetValue<string>()).Reverse().ToList();
        await CallAsync(admin, "PUT", "/api/admin/fields/order", "/api/admin/fields/order", new { entity = "organization", fieldIds = orgFieldIds });
        var noteField = await agent.GetAsync($"api/fields/{note["id"]}").OkJsonAsync();
        await CallAsync(admin, "POST", "/api/admin/fields/{id}/type", $"/api/admin/fields/{note["id"]}/type", new { type = "number" }, $"W/\"{noteField["version"]}\""); // "n" is no number: 409 lossy

        await CallAsync(agent, "GET", "/api/organizations", "/api/organizations?limit=1");
        await CallAsync(agent, "GET", "/api/organizations", "/api/organizations?cursor=broken");
        await CallAsync(agent, "POST", "/api/organizations", "/api/organizations", new { jsmId = "2", name = "Beta", values = new { tier = "Silver" } });
        await CallAsync(agent, "POST", "/api/organizations", "/api/organizations", new { jsmId = "2", name = "Beta again" });
        await CallAsync(agent, "GET", "/api/organizations/{id}", $"/api/organizations/{orgId}");
        var orgNow = await agent.GetAsync($"api/organizations/{orgId}").OkJsonAsync();
        await CallAsync(agent, "PATCH", "/api/organizations/{id}/values", $"/api/organizations/{orgId}/values", new { values = new { tier = "Silver" } }, $"W/\"{orgNow["version"]}\"");
        await CallAsync(agent, "PATCH", "/api/organizations/{id}/values", $"/api/organizations/{orgId}/values", new { values = new { tier = "Platinum" } }, "W/\"99\"");
        await CallAsync(agent, "GET", "/api/customers", "/api/customers");
        await CallAsync(agent, "POST", "/api/customers", "/api/customers", new { accountId = "557058:other", name = "Other", email = "other@example.com" });
        await CallAsync(agent, "GET", "/api/customers/{id}", $"/api/customers/{custId}");
        var custNow = await agent.GetAsync($"api/customers/{custId}").OkJsonAsync();
        await CallAsync(agent, "PATCH", "/api/customers/{id}/values", $"/api/customers/{custId}/values", new { values = new { note = "m" } }, $"W/\"{custNow["version"]}\"");
        await CallAsync(agent, "POST", "/api/bulk/values", "/api/bulk/values", new { entity = "organization", recordIds = new[] { orgId }, values = new { tier = "Gold" } });
        await CallAsync(agent, "POST", "/api/bulk/values", "/api/bulk/values", new { entity = "organization", recordIds = new[] { Guid.NewGuid() }, values = new { tier = "Gold" } });
        await CallAsync(agent, "GET", "/api/organizations/{id}/history", $"/api/organizations/{orgId}/history");
        await CallAsync(agent, "GET", "/api/customers/{id}/history", $"/api/customers/{custId}/history");
        var entry = (await agent.GetAsync($"api/organizations/{orgId}/history").OkJsonAsync())["entries"]!.AsArray().First(e => e!["action"]!.GetValue<string>() == "value.set")!;
        await CallAsync(agent, "POST", "/api/history/{entryId}/restore", $"/api/history/{entry["id"]}/restore");
        await CallAsync(agent, "GET", "/api/issue-panel", $"/api/issue-panel?reporter={customerId}&participants=557058:nobody");
        await CallAsync(agent, "GET", "/api/issue-panel", "/api/issue-panel");
        await CallAsync(agent, "GET", "/api/organizations/export.csv", "/api/organizations/export.csv");
        await CallAsync(agent, "GET", "/api/customers/export.csv", "/api/customers/export.csv");

        await CallAsync(customer, "GET", "/api/portal/me", "/api/portal/me");
        await CallAsync(customer, "GET", "/api/portal/customers/{id}", $"/api/portal/customers/{custId}");
        await CallAsync(customer, "GET", "/api/portal/organizations/{id}", $"/api/portal/organizations/{orgId}");
        await CallAsync(customer, "GET", "/api/portal/organizations/{id}", $"/api/portal/organizations/{Guid.NewGuid()}");
        custNow = await agent.GetAsync($"api/customers/{custId}").OkJsonAsync();
        await CallAsync(customer, "PATCH", "/api/portal/customers/{id}/values", $"/api/portal/customers/{custId}/values", new { values = new { note = "mine" } }, $"W/\"{custNow["version"]}\"");
        orgNow = await agent.GetAsync($"api/organizations/{orgId}").OkJsonAsync();
        await CallAsync(customer, "PATCH", "/api/portal/organizations/{id}/values", $"/api/portal/organizations/{orgId}/values", new { values = new { tier = "Gold" } }, $"W/\"{orgNow["version"]}\"");
        await CallAsync(customer, "GET", "/api/organizations", "/api/organizations");

        await CallAsync(admin, "POST", "/api/admin/api-tokens", "/api/admin/api-tokens", new { name = "ci", scopes = new[] { "read" } });
        var tokens = await admin.GetAsync("api/admin/api-tokens").OkJsonAsync(HttpStatusCode.OK, array: true);
        var tokenId = tokens[0]!["id"]!.GetValue<string>();
        await CallAsync(admin, "GET", "/api/admin/api-tokens", "/api/admin/api-tokens");
        await CallAsync(admin, "GET", "/api/admin/api-tokens/{id}", $"/api/admin/api-tokens/{tokenId}");
        await CallAsync(admin, "DELETE", "/api/admin/api-tokens/{id}", $"/api/admin/api-tokens/{tokenId}");

        await CallAsync(agent, "POST", "/api/imports", "/api/imports?entity=organization", content: new StringContent("jsmId,name,tier\n3,Gamma,Gold\n4,Delta,Nope\n", Encoding.UTF8, "text/csv"));
        await CallAsync(agent, "POST", "/api/imports", "/api/imports?entity=organization", content: new StringContent("{}", Encoding.UTF8, "application/json"));
        var imports = new List<string>();
        using (var upload = await agent.PostAsync("api/imports?entity=organization", new StringContent("jsmId,name\n5,Epsilon\n", Encoding.UTF8, "text/csv")))
        {
            imports.Add(JsonNode.Parse(await upload.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());
        }

        await CallAsync(agent, "GET", "/api/imports/{id}", $"/api/imports/{imports[0]}");
        await CallAsync(agent, "GET", "/api/imports/{id}/errors", $"/api/imports/{imports[0]}/errors");
        await CallAsync(agent, "GET", "/api/imports/{id}/errors.csv", $"/api/imports/{imports[0]}/errors.csv");

        await CallAsync(agent, "POST", "/api/search/organizations", "/api/search/organizations", new { q = "Acme", filters = new[] { new { field = "tier", op = "in", values = new[] { "Gold", "Silver" } } } });
        await CallAsync(agent, "POST", "/api/search/organizations", "/api/search/organizations", new { filters = new[] { new { field = "nope", op = "equals", value = "x" } } });
        await CallAsync(agent, "POST", "/api/search/customers", "/api/search/customers", new { organizationId = orgId });
        await CallAsync(admin, "POST", "/api/admin/search/reindex", "/api/admin/search/reindex");
        using (var reindex = await admin.PostAsync("api/admin/search/reindex", null))
        {
            var runId = JsonNode.Parse(await reindex.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
            await CallAsync(admin, "GET", "/api/admin/search/reindex/{id}", $"/api/admin/search/reindex/{runId}");
        }

        await CallAsync(admin, "GET", "/api/admin/export", "/api/admin/export");
        await CallAsync(agent, "GET", "/api/admin/export", "/api/admin/export");
        await CallAsync(admin, "GET", "/api/admin/audit", "/api/admin/audit?limit=5");
        await CallAsync(admin, "GET", "/api/admin/audit", "/api/admin/audit?action=value.&limit=2");
        await CallAsync(agent, "GET", "/api/admin/audit", "/api/admin/audit");

        // Deletion on request, on a site of its own (it empties the site).
        var doomed = await app.InstallSiteAsync();
        var doomedAdmin = app.As(doomed, SiteRole.Admin);
        await CallAsync(doomedAdmin, "POST", "/api/admin/data-deletion", "/api/admin/data-deletion");
        var deletion = await doomedAdmin.PostAsync("api/admin/data-deletion", null).OkJsonAsync(HttpStatusCode.Created);
        await CallAsync(doomedAdmin, "POST", "/api/admin/data-deletion/confirm", "/api/admin/data-deletion/confirm", new { confirmationToken = "wrong", confirmationPhrase = deletion["confirmationPhrase"]!.GetValue<string>() });
        await CallAsync(doomedAdmin, "POST", "/api/admin/data-deletion/confirm", "/api/admin/data-deletion/confirm", new { confirmationToken = "" });
        await CallAsync(doomedAdmin, "POST", "/api/admin/data-deletion/confirm", "/api/admin/data-deletion/confirm",
            new { confirmationToken = deletion["confirmationToken"]!.GetValue<string>(), confirmationPhrase = deletion["confirmationPhrase"]!.GetValue<string>() });
        await CallAsync(doomedAdmin, "GET", "/api/admin/data-deletion/{id}", $"/api/admin/data-deletion/{deletion["id"]}");
        await CallAsync(doomedAdmin, "GET", "/api/admin/data-deletion/{id}", $"/api/admin/data-deletion/{Guid.NewGuid()}");
        await CallAsync(admin, "POST", "/api/admin/sync", "/api/admin/sync");
        await CallAsync(admin, "GET", "/api/admin/sync", "/api/admin/sync");
        using (var sync = await admin.PostAsync("api/admin/sync", null))
        {
            var runId = JsonNode.Parse(await sync.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
            await CallAsync(admin, "GET", "/api/admin/sync/{id}", $"/api/admin/sync/{runId}");
            await CallAsync(admin, "GET", "/api/admin/sync/{id}", $"/api/admin/sync/{Guid.NewGuid()}");
        }

        // Jira webhooks: signed by the site (accepted, then the same delivery again), a malformed one, an unsigned one.
        HttpClient Webhook(string delivery, string? token)
        {
            var client = app.Client();
            client.DefaultRequestHeaders.Add(WebhookSender.IdentifierHeader, delivery);
            if (token is not null)
            {
                client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "JWT " + token);
            }

            return client;
        }

        var userUpdated = new { webhookEvent = "user_updated", user = new { accountId = customerId } };
        await CallAsync(Webhook("openapi-1", SiteTokens.Request(site, "POST", "/webhooks/jira")), "POST", "/webhooks/jira", "/webhooks/jira", userUpdated);
        await CallAsync(Webhook("openapi-1", SiteTokens.Request(site, "POST", "/webhooks/jira")), "POST", "/webhooks/jira", "/webhooks/jira", userUpdated);
        await CallAsync(Webhook("openapi-2", SiteTokens.Request(site, "POST", "/webhooks/jira")), "POST", "/webhooks/jira", "/webhooks/jira", new { webhookEvent = "board_created" });
        await CallAsync(Webhook("openapi-3", null), "POST", "/webhooks/jira", "/webhooks/jira", userUpdated);

        // Memberships (the site's records were made in the app: their write-backs are not-in-jsm) and email-domain rules.
        const string member = "/api/organizations/{organizationId}/members/{customerId}";
        await CallAsync(agent, "DELETE", member, $"/api/organizations/{orgId}/members/{custId}");
        await CallAsync(agent, "DELETE", member, $"/api/organizations/{orgId}/members/{custId}");
        await CallAsync(agent, "PUT", member, $"/api/organizations/{orgId}/members/{custId}");
        await CallAsync(agent, "PUT", member, $"/api/organizations/{orgId}/members/{custId}");
        await CallAsync(agent, "PUT", member, $"/api/organizations/{Guid.NewGuid()}/members/{custId}");
        await CallAsync(agent, "DELETE", member, $"/api/organizations/{orgId}/members/{Guid.NewGuid()}");
        await CallAsync(agent, "POST", "/api/bulk/memberships", "/api/bulk/memberships", new { remove = new[] { new { customerId = custId, organizationId = orgId } } });
        await CallAsync(agent, "POST", "/api/bulk/memberships", "/api/bulk/memberships", new { add = Array.Empty<object>() });
        await CallAsync(agent, "POST", "/api/bulk/memberships", "/api/bulk/memberships", new { add = new[] { new { customerId = Guid.NewGuid(), organizationId = orgId } } });
        await CallAsync(admin, "GET", "/api/admin/writeback", "/api/admin/writeback");
        await CallAsync(admin, "GET", "/api/admin/writeback", $"/api/admin/writeback?state=not-in-jsm&organizationId={orgId}&limit=1");
        await CallAsync(admin, "GET", "/api/admin/writeback", "/api/admin/writeback?state=sideways");
        await CallAsync(admin, "GET", "/api/admin/writeback", "/api/admin/writeback?cursor=not-a-cursor");
        await CallAsync(admin, "GET", "/api/admin/writeback/organizations", "/api/admin/writeback/organizations");
        await CallAsync(admin, "POST", "/api/admin/writeback/retry", "/api/admin/writeback/retry", new { organizationId = orgId });
        await CallAsync(admin, "POST", "/api/admin/email-rules", "/api/admin/email-rules", new { domain = "acme.example", organizationId = orgId });
        await CallAsync(admin, "POST", "/api/admin/email-rules", "/api/admin/email-rules", new { domain = "acme.example", organizationId = orgId });
        await CallAsync(admin, "POST", "/api/admin/email-rules", "/api/admin/email-rules", new { domain = "not a domain", organizationId = orgId });
        await CallAsync(admin, "POST", "/api/admin/email-rules", "/api/admin/email-rules", new { domain = "acme.example" });
        await CallAsync(admin, "GET", "/api/admin/email-rules", "/api/admin/email-rules");
        var rule = (await admin.GetAsync("api/admin/email-rules").OkJsonAsync(HttpStatusCode.OK, array: true))[0]!;
        await CallAsync(admin, "PUT", "/api/admin/email-rules/{id}", $"/api/admin/email-rules/{rule["id"]}", new { domain = "*.acme.example", organizationId = orgId });
        await CallAsync(admin, "PUT", "/api/admin/email-rules/{id}", $"/api/admin/email-rules/{Guid.NewGuid()}", new { domain = "acme.example", organizationId = orgId });
        await CallAsync(admin, "GET", "/api/admin/email-rules/dry-run", "/api/admin/email-rules/dry-run");
        await CallAsync(admin, "POST", "/api/admin/email-rules/apply", "/api/admin/email-rules/apply");
        await CallAsync(admin, "DELETE", "/api/admin/email-rules/{id}", $"/api/admin/email-rules/{rule["id"]}");
        await CallAsync(admin, "DELETE", "/api/admin/email-rules/{id}", $"/api/admin/email-rules/{rule["id"]}");
        await CallAsync(agent, "POST", "/api/views", "/api/views", new { entity = "organization", name = "Gold", shared = true, definition = new { q = "ac", filters = new[] { new { field = "tier", op = "equals", value = "Gold" } }, columns = new[] { "tier" } } });
        await CallAsync(agent, "POST", "/api/views", "/api/views", new { entity = "organization", name = "Gold" });
        await CallAsync(agent, "POST", "/api/views", "/api/views", new { entity = "organization", name = "Bad", definition = new { filters = new[] { new { field = "nope", op = "equals", value = 1 } } } });
        await CallAsync(agent, "GET", "/api/views", "/api/views?entity=organization");
        var savedView = (await agent.GetAsync("api/views").OkJsonAsync(HttpStatusCode.OK, array: true))[0]!;
        await CallAsync(agent, "PUT", "/api/views/{id}", $"/api/views/{savedView["id"]}", new { name = "Gold accounts", shared = false, definition = new { q = "acme" } });
        await CallAsync(admin, "PUT", "/api/views/{id}", $"/api/views/{Guid.NewGuid()}", new { name = "x" });
        await CallAsync(agent, "DELETE", "/api/views/{id}", $"/api/views/{savedView["id"]}");
        await CallAsync(agent, "DELETE", "/api/views/{id}", $"/api/views/{savedView["id"]}");
        await CallAsync(agent, "PUT", "/api/me/columns/organizations", "/api/me/columns/organizations", new { columns = new[] { "tier" } });
        await CallAsync(agent, "PUT", "/api/me/columns/customers", "/api/me/columns/customers", new { columns = new[] { "tier" } });
        await CallAsync(agent, "PUT", "/api/me/columns/customers", "/api/me/columns/customers", new { columns = new[] { "note" } });
        await CallAsync(agent, "GET", "/api/me/columns", "/api/me/columns");

        Assert.True(problems.Count == 0, "Answers that do not match the document:\n" + string.Join('\n', problems.Distinct()));
        var uncovered = operations.Except(checkedOperations).Select(o => $"{o.Method} {o.Path}").Order(StringComparer.Ordinal).ToList();
        Assert.True(uncovered.Count == 0, "Operations this test does not call yet (add a call): " + string.Join(", ", uncovered));
    }
}
