using System.Net;
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
}
