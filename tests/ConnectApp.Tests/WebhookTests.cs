using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>
/// Jira webhooks as the simulator sends them (signed with the site's shared secret, a delivery id header): recorded and
/// queued by the receiver, acted on by the worker; the same delivery twice changes nothing twice; a bad token stores
/// nothing; <c>user_deleted</c> leaves no trace of the account's name or email.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class WebhookTests(ConnectAppFixture app)
{
    [Fact]
    public async Task UserUpdated_SameDeliveryTwice_RefreshesOnce_WithOneAuditRow()
    {
        const string account = "557058:wendy-webhook";
        var site = ConnectAppFixture.NewSite();
        site.Directory.AddCustomer(account, "Wendy Webhook", "wendy@example.com");
        await app.InstallAsync(site);
        var agent = app.As(site, SiteRole.Agent);
        var wendy = await WaitForCustomerAsync(agent, "Wendy");
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await SettledAsync(tenantId); // the install's sync is done

        var delivery = Guid.NewGuid().ToString();
        Assert.Equal([HttpStatusCode.Accepted], await site.UpdateUserAsync(account, "Wendy Renamed", identifier: delivery));
        await TenantTableCounts.WaitAsync(
            async () => (await agent.GetAsync($"api/customers/{wendy["id"]}").OkJsonAsync())["name"]!.GetValue<string>() == "Wendy Renamed",
            TimeSpan.FromSeconds(30), "the user_updated webhook to refresh the customer");
        await SettledAsync(tenantId);

        // Jira retries the same delivery (it did not see our answer): recognised, nothing queued, nothing read again —
        // even though the name in Jira has moved on since.
        Assert.Equal([HttpStatusCode.OK], await site.UpdateUserAsync(account, "Wendy Third", identifier: delivery));
        await Task.Delay(1500);
        await SettledAsync(tenantId);
        Assert.Equal("Wendy Renamed", (await agent.GetAsync($"api/customers/{wendy["id"]}").OkJsonAsync())["name"]!.GetValue<string>());
        Assert.Equal(1L, await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString,
            "SELECT count(*) FROM audit_entries WHERE tenant_id = @t AND actor = 'system:jira-webhook' AND action = 'record.updated'", ("t", tenantId)));
        Assert.Equal(1L, await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString,
            "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = @t AND processed_at IS NOT NULL", ("t", tenantId)));

        // A new delivery of the next change is acted on.
        Assert.Equal([HttpStatusCode.Accepted], await site.UpdateUserAsync(account, "Wendy Third"));
        await TenantTableCounts.WaitAsync(
            async () => (await agent.GetAsync($"api/customers/{wendy["id"]}").OkJsonAsync())["name"]!.GetValue<string>() == "Wendy Third",
            TimeSpan.FromSeconds(30), "the second user_updated webhook");
    }

    [Fact]
    public async Task BadOrMissingToken_Is401_BadBody_Is400_AndNothingIsStored()
    {
        var site = await app.InstallSiteAsync();
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await SettledAsync(tenantId);
        var before = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId);
        var payload = """{"webhookEvent":"user_deleted","user":{"accountId":"557058:victim"}}""";

        // Signed with another secret (a forger who knows the clientKey), with none, and by a site that never installed the app.
        var forger = new SimulatedSite(site.Name, site.BaseUrl, site.ClientKey) { SharedSecret = SimulatedSite.NewSharedSecret() };
        await SendAsync(SiteTokens.Request(forger, "POST", "/webhooks/jira"), payload).ProblemAsync(HttpStatusCode.Unauthorized, "jwt.invalid_signature");
        await SendAsync(null, payload).ProblemAsync(HttpStatusCode.Unauthorized, "jwt.missing");
        var stranger = new SimulatedSite("stranger", new Uri("https://stranger.atlassian.net")) { SharedSecret = SimulatedSite.NewSharedSecret() };
        await SendAsync(SiteTokens.Request(stranger, "POST", "/webhooks/jira"), payload).ProblemAsync(HttpStatusCode.Unauthorized, "jwt.unknown_issuer");
        // A token the site minted for another request (an iframe URL), and a context token: not a webhook's.
        await SendAsync(SiteTokens.Request(site, "GET", "/app/issue-view.html"), payload).ProblemAsync(HttpStatusCode.Unauthorized, "jwt.qsh_mismatch");
        await SendAsync(SiteTokens.Context(site, "557058:someone"), payload).ProblemAsync(HttpStatusCode.Unauthorized, "jwt.context_token_not_allowed");

        // Signed, but not a payload the app subscribed to, or without its delivery id.
        await SendAsync(SiteTokens.Request(site, "POST", "/webhooks/jira"), "{not json").ProblemAsync(HttpStatusCode.BadRequest, "webhook.malformed");
        await SendAsync(SiteTokens.Request(site, "POST", "/webhooks/jira"), """{"webhookEvent":"jira:issue_deleted","issue":{"id":"1"}}""").ProblemAsync(HttpStatusCode.BadRequest, "webhook.malformed");
        await SendAsync(SiteTokens.Request(site, "POST", "/webhooks/jira"), """{"webhookEvent":"user_updated","user":{}}""").ProblemAsync(HttpStatusCode.BadRequest, "webhook.malformed");
        await SendAsync(SiteTokens.Request(site, "POST", "/webhooks/jira"), payload, identifier: null).ProblemAsync(HttpStatusCode.BadRequest, "webhook.malformed");

        Assert.Equal(before, await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId));
        Assert.Equal(0L, await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString, "SELECT count(*) FROM webhook_deliveries WHERE tenant_id = @t", ("t", tenantId)));

        // The same request, signed by the site: accepted.
        using var accepted = await SendAsync(SiteTokens.Request(site, "POST", "/webhooks/jira"), payload);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    [Fact]
    public async Task UserDeleted_LeavesNoTraceOfTheAccountsNameOrEmail()
    {
        const string account = "557058:dora-deleted";
        var site = ConnectAppFixture.NewSite();
        site.Directory.AddCustomer(account, "Dora Deletedova", "dora.deletedova@example.com");
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "motto", label = "Motto", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        var dora = await WaitForCustomerAsync(agent, "Dora");
        await agent.SendJsonAsync(HttpMethod.Patch, $"api/customers/{dora["id"]}/values", new { values = new { motto = "Dora Secret Motto" } }, $"W/\"{dora["version"]}\"").OkJsonAsync();
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await SettledAsync(tenantId);
        Assert.True(await TracesAsync("Dora Deletedova", "dora.deletedova@example.com", "Dora Secret Motto") > 0, "stored before the webhook");

        Assert.Equal([HttpStatusCode.Accepted], await site.DeleteUserAsync(account));
        await TenantTableCounts.WaitAsync(async () => await TracesAsync("Dora Deletedova", "dora.deletedova@example.com", "Dora Secret Motto") == 0, TimeSpan.FromSeconds(30), "the erasure");
        await SettledAsync(tenantId);
        Assert.Equal(0, await TracesAsync("Dora Deletedova", "dora.deletedova@example.com", "Dora Secret Motto"));
        var erased = await agent.GetAsync($"api/customers/{dora["id"]}").OkJsonAsync();
        Assert.Equal("Closed account", erased["name"]!.GetValue<string>());
        Assert.Null(erased["email"]);
        Assert.Equal(1, await app.CountAuditAsync(site, "account.erased"));
    }

    private async Task<HttpResponseMessage> SendAsync(string? token, string body, string? identifier = "delivery-1")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "webhooks/jira") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (token is not null)
        {
            TestLog.RecordSecret(token);
            request.Headers.Authorization = new AuthenticationHeaderValue("JWT", token);
        }

        if (identifier is not null)
        {
            request.Headers.Add(WebhookSender.IdentifierHeader, identifier);
        }

        return await app.Client().SendAsync(request);
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> WaitForCustomerAsync(HttpClient agent, string query)
    {
        System.Text.Json.Nodes.JsonNode? found = null;
        await TenantTableCounts.WaitAsync(
            async () => (found = (await agent.GetAsync($"api/customers?q={query}").OkJsonAsync())["values"]!.AsArray().SingleOrDefault()) is not null,
            TimeSpan.FromSeconds(30), "the install's sync to bring in " + query);
        return found!;
    }

    /// <summary>Every outbox message of the tenant applied (the worker has done what was queued).</summary>
    private Task SettledAsync(Guid tenantId) =>
        TenantTableCounts.WaitAsync(
            async () => await TenantTableCounts.ScalarAsync<long>(app.DatabaseConnectionString,
                "SELECT count(*) FROM outbox_messages WHERE tenant_id = @t AND applied_at IS NULL AND dead_lettered_at IS NULL", ("t", tenantId)) == 0,
            TimeSpan.FromSeconds(60), "the tenant's background work");

    private Task<long> TracesAsync(params string[] needles) => TenantTableCounts.TracesAsync(app.DatabaseConnectionString, needles);
}
