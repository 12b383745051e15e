using System.Net;
using System.Net.Http.Json;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>The site-wide audit log admins read: newest first, paged, narrowed by action, only their own site, never for agents.</summary>
[Collection(AppCollection.Name)]
public sealed class AuditLogTests(ConnectAppFixture app)
{
    [Fact]
    public async Task AdminReadsTheSitesAuditLog_NewestFirst_Paged_ByAction_AndNothingOfAnotherSite()
    {
        var site = await app.InstallSiteAsync();
        var other = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await admin.PostAsJsonAsync("api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        var org = await agent.PostAsJsonAsync("api/organizations", new { jsmId = "9", name = "Audited Org", values = new { tier = "Gold" } }).OkJsonAsync(HttpStatusCode.Created);
        await app.As(other, SiteRole.Admin).PostAsJsonAsync("api/admin/fields", new { entity = "organization", key = "secret_of_other", label = "Other", type = "text" }).OkJsonAsync(HttpStatusCode.Created);

        var all = await admin.GetAsync("api/admin/audit").OkJsonAsync();
        var actions = all["entries"]!.AsArray().Select(e => e!["action"]!.GetValue<string>()).ToList();
        Assert.Equal("field.created", actions[^1]); // oldest last
        Assert.Contains("record.created", actions);
        Assert.Contains("value.set", actions);
        var ids = all["entries"]!.AsArray().Select(e => e!["id"]!.GetValue<long>()).ToList();
        Assert.Equal(ids.OrderDescending(), ids);
        Assert.DoesNotContain("secret_of_other", all.ToJsonString(), StringComparison.Ordinal);

        var values = await admin.GetAsync("api/admin/audit?action=value.").OkJsonAsync();
        var valueEntry = Assert.Single(values["entries"]!.AsArray());
        Assert.Equal("tier", valueEntry!["fieldKey"]!.GetValue<string>());
        Assert.Equal("Gold", valueEntry["newValue"]!.GetValue<string>());
        Assert.Equal(org["id"]!.GetValue<string>(), valueEntry["recordId"]!.GetValue<string>());

        var first = await admin.GetAsync("api/admin/audit?limit=1").OkJsonAsync();
        var before = first["nextBefore"]!.GetValue<long>();
        var second = await admin.GetAsync($"api/admin/audit?limit=1&before={before}").OkJsonAsync();
        Assert.Equal(ids[1], second["entries"]![0]!["id"]!.GetValue<long>());

        await agent.GetAsync("api/admin/audit").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
    }
}
