using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.AspNetCore.Http;

namespace ConnectApp.Tests;

/// <summary>
/// Marketplace licensing with <c>LICENSING=enforce</c> (a second app on the run's database): the license as Jira's
/// license API for cloud apps reports it decides whether a site may change anything; reading, searching and exporting
/// stay open. With licensing off (the fixture's app) an unlicensed site works as before.
/// </summary>
#pragma warning disable CA1001 // xunit disposes the factory through IAsyncLifetime.DisposeAsync
[Collection(AppCollection.Name)]
public sealed class LicensingTests(ConnectAppFixture app) : IAsyncLifetime
{
    private ConnectAppFactory _licensed = null!;

    public Task InitializeAsync()
    {
        _licensed = new ConnectAppFactory(app, app.DatabaseUrl, new Dictionary<string, string> { ["LICENSING"] = "enforce" });
        _ = _licensed.Server;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _licensed.DisposeAsync();

    [Fact]
    public async Task Descriptor_EnablesLicensing_OnlyWhenEnforced()
    {
        var enforced = JsonNode.Parse(await _licensed.CreateClient().GetStringAsync("atlassian-connect.json"))!;
        Assert.True(enforced["enableLicensing"]!.GetValue<bool>());
        var off = JsonNode.Parse(await app.Client().GetStringAsync("atlassian-connect.json"))!;
        Assert.False(off["enableLicensing"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData(SimulatedLicense.Inactive)]
    [InlineData(SimulatedLicense.Absent)] // no license member: not a paid license of this listing
    public async Task UnlicensedSite_ReadsSearchesExportsAndMayDeleteItsData_ButChangesNothing(SimulatedLicense license)
    {
        var site = await app.InstallSiteAsync();
        await app.As(site, SiteRole.Agent).SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Written while licensed" }).OkJsonAsync(HttpStatusCode.Created);
        site.License = license;
        var agent = Client(site, SiteRole.Agent);
        var admin = Client(site, SiteRole.Admin);

        var refused = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "2", name = "Refused" }).ProblemAsync(HttpStatusCode.Forbidden, "license.inactive");
        Assert.Contains("Manage apps", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "text" }).ProblemAsync(HttpStatusCode.Forbidden, "license.inactive");
        var list = await agent.GetAsync("api/organizations").OkJsonAsync();
        Assert.Equal(["Written while licensed"], list["values"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()));
        var id = list["values"]![0]!["id"]!.GetValue<string>();
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{id}/values", new { values = new { } }, "W/\"1\"").ProblemAsync(HttpStatusCode.Forbidden, "license.inactive");

        await agent.SendJsonAsync(HttpMethod.Post, "api/search/organizations", new { q = "Written" }).OkJsonAsync();
        using var export = await admin.GetAsync("api/admin/export");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        await admin.PostAsync("api/admin/data-deletion", null).OkJsonAsync(HttpStatusCode.Created); // deleting its data stays open
        Assert.Equal(0, await app.CountAuditAsync(site, "field.created"));
        Assert.Equal(1, await app.CountAuditAsync(site, "record.created"));
    }

    [Fact]
    public async Task LicensedSite_Writes_AndTheLicenseIsAskedOnceForManyWrites()
    {
        var site = await app.InstallSiteAsync();
        site.LicenseEvaluation = true; // a trial is an active license
        var agent = Client(site, SiteRole.Agent);
        for (var i = 0; i < 5; i++)
        {
            await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = $"{i}", name = $"Org {i}" }).OkJsonAsync(HttpStatusCode.Created);
        }

        Assert.Equal(1, site.LicenseChecks);
    }

    [Fact]
    public async Task LicenseApiDown_TheSiteKeepsWriting_WhenNothingSaysItIsUnlicensed()
    {
        var site = await app.InstallSiteAsync();
        site.FailLicenseChecksWith = StatusCodes.Status503ServiceUnavailable;
        await Client(site, SiteRole.Agent).SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "During a Jira outage" }).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal(1, site.LicenseChecks);
    }

    [Fact]
    public async Task LicensingOff_AnUnlicensedSiteWrites()
    {
        var site = await app.InstallSiteAsync();
        site.License = SimulatedLicense.Inactive;
        await app.As(site, SiteRole.Agent).SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Licensing off" }).OkJsonAsync(HttpStatusCode.Created);
        Assert.Equal(0, site.LicenseChecks);
    }

    private HttpClient Client(SimulatedSite site, SiteRole role)
    {
        var accountId = $"557058:lic-{role.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}"[..40];
        site.AddUser(accountId, role);
        var client = _licensed.CreateClient();
        var token = SiteTokens.Context(site, accountId);
        TestLog.RecordSecret(token);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", token);
        return client;
    }
}
#pragma warning restore CA1001
