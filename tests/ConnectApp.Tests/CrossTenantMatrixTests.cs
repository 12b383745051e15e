using System.Net;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>For every endpoint that takes an id: tenant A's token with tenant B's ids gets 404, and B's data is unchanged.</summary>
[Collection(AppCollection.Name)]
public sealed class CrossTenantMatrixTests(ConnectAppFixture app)
{
    private sealed record Tenant(SimulatedSite Site, HttpClient Admin, HttpClient Agent, HttpClient Customer, string FieldId, string OptionId, string OrgId, string CustomerId, long HistoryId, string ImportId, string TokenId);

    private async Task<Tenant> TenantAsync()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        var account = "557058:x-" + Guid.NewGuid().ToString("N")[..8];
        var customer = app.As(site, SiteRole.Customer, account);
        var field = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "A", "B" }, visibility = "customers-edit" }).OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "note", label = "Note", type = "text", visibility = "customers-edit" }).OkJsonAsync(HttpStatusCode.Created);
        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Org", values = new { tier = "A" } }).OkJsonAsync(HttpStatusCode.Created);
        var cust = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = account, name = "C", organizationIds = new[] { org["id"]!.GetValue<string>() }, values = new { note = "n" } }).OkJsonAsync(HttpStatusCode.Created);
        var history = (await agent.GetAsync($"api/organizations/{org["id"]}/history").OkJsonAsync())["entries"]!.AsArray().First(e => e!["action"]!.GetValue<string>() == "value.set")!;
        using var csv = new StringContent("jsmId,name\n1,Org\n", System.Text.Encoding.UTF8, "text/csv");
        var import = await agent.PostAsync("api/imports?entity=organization", csv).OkJsonAsync(HttpStatusCode.Accepted);
        var token = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "integration", scopes = new[] { "read" } }).OkJsonAsync(HttpStatusCode.Created);
        TestLog.RecordSecret(token["token"]!.GetValue<string>());
        return new Tenant(site, admin, agent, customer, field["id"]!.GetValue<string>(), field["options"]![0]!["id"]!.GetValue<string>(),
            org["id"]!.GetValue<string>(), cust["id"]!.GetValue<string>(), history["id"]!.GetValue<long>(), import["id"]!.GetValue<string>(), token["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task EveryEndpoint_WithAnotherTenantsIds_Is404_AndTheOtherTenantIsUnchanged()
    {
        var a = await TenantAsync();
        var b = await TenantAsync();
        var before = await SnapshotAsync(b.Site);

        var cases = new (HttpClient Client, HttpMethod Method, string Url, object? Body, string? IfMatch)[]
        {
            (a.Agent, HttpMethod.Get, $"api/fields/{b.FieldId}", null, null),
            (a.Agent, HttpMethod.Get, $"api/fields/{b.FieldId}/history", null, null),
            (a.Admin, HttpMethod.Patch, $"api/admin/fields/{b.FieldId}", new { label = "hijacked" }, "W/\"1\""),
            (a.Admin, HttpMethod.Post, $"api/admin/fields/{b.FieldId}/type", new { type = "text" }, "W/\"1\""),
            (a.Admin, HttpMethod.Post, $"api/admin/fields/{b.FieldId}/options", new { label = "X" }, "W/\"1\""),
            (a.Admin, HttpMethod.Patch, $"api/admin/fields/{b.FieldId}/options/{b.OptionId}", new { label = "X" }, "W/\"1\""),
            (a.Admin, HttpMethod.Put, $"api/admin/fields/{b.FieldId}/options/order", new { optionIds = new[] { b.OptionId } }, "W/\"1\""),
            (a.Admin, HttpMethod.Put, "api/admin/fields/order", new { entity = "organization", fieldIds = new[] { b.FieldId } }, null),
            (a.Agent, HttpMethod.Get, $"api/organizations/{b.OrgId}", null, null),
            (a.Agent, HttpMethod.Patch, $"api/organizations/{b.OrgId}/values", new { values = new { tier = "B" } }, "W/\"1\""),
            (a.Agent, HttpMethod.Get, $"api/organizations/{b.OrgId}/history", null, null),
            (a.Agent, HttpMethod.Get, $"api/customers/{b.CustomerId}", null, null),
            (a.Agent, HttpMethod.Patch, $"api/customers/{b.CustomerId}/values", new { values = new { note = "x" } }, "W/\"1\""),
            (a.Agent, HttpMethod.Get, $"api/customers/{b.CustomerId}/history", null, null),
            (a.Agent, HttpMethod.Post, "api/customers", new { accountId = "557058:new", name = "N", organizationIds = new[] { b.OrgId } }, null),
            (a.Agent, HttpMethod.Post, "api/bulk/values", new { entity = "organization", recordIds = new[] { b.OrgId }, values = new { tier = "B" } }, null),
            (a.Agent, HttpMethod.Post, $"api/history/{b.HistoryId}/restore", null, null),
            (a.Agent, HttpMethod.Get, $"api/imports/{b.ImportId}", null, null),
            (a.Agent, HttpMethod.Get, $"api/imports/{b.ImportId}/errors", null, null),
            (a.Agent, HttpMethod.Get, $"api/imports/{b.ImportId}/errors.csv", null, null),
            (a.Admin, HttpMethod.Get, $"api/admin/api-tokens/{b.TokenId}", null, null),
            (a.Admin, HttpMethod.Delete, $"api/admin/api-tokens/{b.TokenId}", null, null),
            (a.Customer, HttpMethod.Get, $"api/portal/customers/{b.CustomerId}", null, null),
            (a.Customer, HttpMethod.Get, $"api/portal/organizations/{b.OrgId}", null, null),
            (a.Customer, HttpMethod.Patch, $"api/portal/customers/{b.CustomerId}/values", new { values = new { note = "x" } }, "W/\"1\""),
            (a.Customer, HttpMethod.Patch, $"api/portal/organizations/{b.OrgId}/values", new { values = new { tier = "B" } }, "W/\"1\""),
        };

        foreach (var (client, method, url, body, ifMatch) in cases)
        {
            using var response = await client.SendJsonAsync(method, url, body, ifMatch);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        // Lists and the issue panel never show B's records either.
        var orgs = await a.Agent.GetAsync("api/organizations").OkJsonAsync();
        Assert.DoesNotContain(b.OrgId, orgs.ToJsonString(), StringComparison.Ordinal);
        var bCustomer = await b.Agent.GetAsync($"api/customers/{b.CustomerId}").OkJsonAsync();
        var panel = await a.Agent.GetAsync($"api/issue-panel?reporter={bCustomer["externalId"]}").OkJsonAsync();
        Assert.Null(panel["people"]![0]!["customer"]);
        Assert.Empty(panel["organizations"]!.AsArray());

        Assert.Equal(before, await SnapshotAsync(b.Site));
    }

    private async Task<string> SnapshotAsync(SimulatedSite site)
    {
        var tenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"""
            SELECT set_config('app.tenant_id', '{tenant}', false);
            SELECT concat_ws(E'\n',
              (SELECT string_agg(concat_ws('|', id, name, field_values::text, version), ',' ORDER BY id) FROM records),
              (SELECT string_agg(concat_ws('|', id, key, label, type, version), ',' ORDER BY id) FROM field_definitions),
              (SELECT string_agg(concat_ws('|', id, label, position, retired), ',' ORDER BY id) FROM field_options),
              (SELECT count(*)::text FROM audit_entries),
              (SELECT count(*)::text FROM memberships),
              (SELECT string_agg(concat_ws('|', id, revoked_at), ',' ORDER BY id) FROM api_tokens))
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.NextResultAsync();
        await reader.ReadAsync();
        var snapshot = reader.GetString(0);
        Assert.Contains("Org", snapshot, StringComparison.Ordinal); // the snapshot really sees B's rows
        return snapshot;
    }
}
