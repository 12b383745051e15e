using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

[Collection(AppCollection.Name)]
public sealed class ExportTests(ConnectAppFixture app)
{
    [Fact]
    public async Task Export_GivesTheAdminEveryKindOfData_ValuesByFieldKey_NoSecrets_NoOtherSite()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        var tier = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "select", options = new[] { "Gold", "Silver" } })
            .OkJsonAsync(HttpStatusCode.Created);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "plan", label = "Plan", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        var org = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "10", name = "Acme", values = new { tier = "Gold" } }).OkJsonAsync(HttpStatusCode.Created);
        var customer = await agent.SendJsonAsync(HttpMethod.Post, "api/customers",
            new { accountId = "557058:cara", name = "Cara", email = "cara@acme.example", organizationIds = new[] { org["id"]!.GetValue<string>() }, values = new { plan = "Basic" } })
            .OkJsonAsync(HttpStatusCode.Created);
        var token = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "CRM", scopes = new[] { "read" } }).OkJsonAsync(HttpStatusCode.Created);
        var tokenValue = token["token"]!.GetValue<string>();
        TestLog.RecordSecret(tokenValue);

        var other = await app.InstallSiteAsync();
        await app.As(other, SiteRole.Agent).SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "10", name = "Other Company Ltd" }).OkJsonAsync(HttpStatusCode.Created);

        using var response = await admin.GetAsync("api/admin/export");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.StartsWith("connectapp-export-", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"'), StringComparison.Ordinal);
        var export = JsonNode.Parse(text)!.AsObject();

        Assert.Equal("connectapp.export.v1", export["format"]!.GetValue<string>());
        Assert.Equal(site.BaseUrl.ToString().TrimEnd('/'), export["site"]!["baseUrl"]!.GetValue<string>().TrimEnd('/'));
        // counts come first and match what follows, so a client can show progress while it reads
        Assert.Equal("counts", export.Select(p => p.Key).ElementAt(3));
        foreach (var section in new[] { "fields", "organizations", "customers", "memberships", "emailRules", "membershipChanges", "apiTokens", "imports", "auditLog" })
        {
            Assert.Equal(export["counts"]![section]!.GetValue<int>(), export[section]!.AsArray().Count);
        }

        Assert.Equal(2, export["fields"]!.AsArray().Count);
        var exportedTier = export["fields"]!.AsArray().Single(f => f!["key"]!.GetValue<string>() == "tier")!;
        Assert.Equal(["Gold", "Silver"], exportedTier["options"]!.AsArray().Select(o => o!["label"]!.GetValue<string>()));

        var exportedOrg = Assert.Single(export["organizations"]!.AsArray())!;
        Assert.Equal("Acme", exportedOrg["name"]!.GetValue<string>());
        Assert.Equal("10", exportedOrg["jsmId"]!.GetValue<string>());
        var goldId = exportedTier["options"]!.AsArray().Single(o => o!["label"]!.GetValue<string>() == "Gold")!["id"]!.GetValue<string>();
        Assert.Equal(goldId, exportedOrg["values"]!["tier"]!.ToString());
        Assert.Equal(tier["id"]!.GetValue<string>(), exportedTier["id"]!.GetValue<string>());

        var exportedCustomer = Assert.Single(export["customers"]!.AsArray())!;
        Assert.Equal("cara@acme.example", exportedCustomer["email"]!.GetValue<string>());
        Assert.Equal("Basic", exportedCustomer["values"]!["plan"]!.GetValue<string>());
        var membership = Assert.Single(export["memberships"]!.AsArray())!;
        Assert.Equal(customer["id"]!.GetValue<string>(), membership["customerId"]!.GetValue<string>());
        Assert.Equal(org["id"]!.GetValue<string>(), membership["organizationId"]!.GetValue<string>());

        var exportedToken = Assert.Single(export["apiTokens"]!.AsArray())!.AsObject();
        Assert.Equal("CRM", exportedToken["name"]!.GetValue<string>());
        Assert.DoesNotContain(exportedToken, p => p.Key is "token" or "secretHash");
        Assert.DoesNotContain(tokenValue[^43..], text, StringComparison.Ordinal);
        Assert.DoesNotContain(site.SharedSecret!, text, StringComparison.Ordinal);

        var actions = export["auditLog"]!.AsArray().Select(a => a!["action"]!.GetValue<string>()).ToList();
        Assert.Contains("field.created", actions);
        Assert.Contains("data.exported", actions); // taking a copy of the data is on the record, in the copy itself

        Assert.DoesNotContain("Other Company Ltd", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_IsForAdminsOnly_NotAgentsCustomersOrApiTokens()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        await app.As(site, SiteRole.Agent).GetAsync("api/admin/export").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await app.As(site, SiteRole.Customer).GetAsync("api/admin/export").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await app.Client().GetAsync("api/admin/export").ProblemAsync(HttpStatusCode.Unauthorized, "jwt.missing");

        var token = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "All", scopes = new[] { "read", "write" } }).OkJsonAsync(HttpStatusCode.Created);
        var value = token["token"]!.GetValue<string>();
        TestLog.RecordSecret(value);
        using var bearer = app.Client();
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", value);
        using var refused = await bearer.GetAsync("api/admin/export");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(0, await app.CountAuditAsync(site, "data.exported"));
    }
}
