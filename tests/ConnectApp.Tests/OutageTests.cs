using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ConnectApp.Persistence;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ConnectApp.Tests;

/// <summary>
/// The database goes away under a running app (a real PostgreSQL server of the test's own, stopped by PID): calls
/// answer 503 database.unavailable with Retry-After at once, readiness says so, and the app recovers by itself when
/// the server is back.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class OutageTests(ConnectAppFixture app)
{
    [Fact]
    public async Task PostgreSqlDown_Is503WithRetryAfter_Fast_AndRecoversWithoutARestart()
    {
        await using var postgres = await PrivatePostgres.StartAsync();
        await TestDatabase.MigrateAsync(DatabaseUrl.ToConnectionString(postgres.Url)!); // before start: the worker's scheduler needs its tables
        await using var factory = new ConnectAppFactory(app, postgres.Url);
        factory.UseKestrel(0);
        factory.StartServer();
        var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().Replace("[::1]", "127.0.0.1", StringComparison.Ordinal) + "/");
        HttpClient Client(string? token = null)
        {
            var client = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = address, AllowAutoRedirect = false });
            if (token is not null)
            {
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", token);
            }

            return client;
        }

        var site = await app.InstallSiteThroughAsync(Client());
        site.AddUser("557058:outage-agent", SiteRole.Agent);
        var token = SiteTokens.Context(site, "557058:outage-agent");
        TestLog.RecordSecret(token);
        using var agent = Client(token);
        await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Before the outage" }).OkJsonAsync(HttpStatusCode.Created);

        await postgres.StopServerAsync();

        var clock = Stopwatch.StartNew();
        using (var down = await agent.GetAsync("api/organizations"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"answered after {clock.Elapsed}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.True(down.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is set");
            await Task.FromResult(down).ProblemAsync(HttpStatusCode.ServiceUnavailable, "database.unavailable");
        }

        await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "2", name = "During the outage" }).ProblemAsync(HttpStatusCode.ServiceUnavailable, "database.unavailable");
        using (var ready = await Client().GetAsync("health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }

        await postgres.StartServerAsync();

        // Back without restarting the app: pooled connections to the old server are dropped and replaced.
        HttpStatusCode status = 0;
        for (var attempt = 0; attempt < 20 && status != HttpStatusCode.OK; attempt++)
        {
            using var response = await agent.GetAsync("api/organizations");
            status = response.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                await Task.Delay(250);
            }
        }

        Assert.Equal(HttpStatusCode.OK, status);
        var list = await agent.GetAsync("api/organizations").OkJsonAsync();
        Assert.Equal(["Before the outage"], list["values"]!.AsArray().Select(v => v!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task RabbitMqDown_ReadinessSaysSo_WritesStillSucceed_AndTheirWorkIsDoneWhenItReturns()
    {
        await using var node = await PrivateRabbitNode.StartAsync();
        await using var database = await TestDatabase.CreateAsync();
        await database.MigrateAsync();
        await using var factory = new ConnectAppFactory(app, database.Url, new Dictionary<string, string> { ["RABBITMQ_URL"] = node.Url });
        var site = await app.InstallSiteThroughAsync(factory.CreateClient());
        site.AddUser("557058:broker-agent", SiteRole.Agent);
        var token = SiteTokens.Context(site, "557058:broker-agent", lifetime: TimeSpan.FromMinutes(10));
        TestLog.RecordSecret(token);
        using var agent = factory.CreateClient();
        agent.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", token);
        await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Before the broker outage" }).OkJsonAsync(HttpStatusCode.Created);
        await WaitForSearchAsync(agent, "Before");

        await node.StopAsync();
        var ready = await WaitForReadinessAsync(factory, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Unhealthy", ready["checks"]!["rabbitmq"]!["status"]!.GetValue<string>());
        Assert.Equal("Healthy", ready["checks"]!["postgresql"]!["status"]!.GetValue<string>());

        // Writes do not need the broker: the change and its outbox message commit together and wait in PostgreSQL.
        await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "2", name = "During the broker outage" }).OkJsonAsync(HttpStatusCode.Created);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var during = await agent.SendJsonAsync(HttpMethod.Post, "api/search/organizations", new { q = "During" }).OkJsonAsync();
        Assert.Empty(during["values"]!.AsArray());
        Assert.True(during["freshness"]!["pendingChanges"]!.GetValue<int>() >= 1, "search says a change is waiting");

        await node.StartAgainAsync();
        await WaitForReadinessAsync(factory, HttpStatusCode.OK);
        await WaitForSearchAsync(agent, "During"); // the kept message was published and applied, without a restart
    }

    private static async Task<JsonNode> WaitForReadinessAsync(ConnectAppFactory factory, HttpStatusCode expected)
    {
        using var client = factory.CreateClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var response = await client.GetAsync("health/ready");
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            if (response.StatusCode == expected)
            {
                return body;
            }

            Assert.True(DateTime.UtcNow < deadline, $"readiness stayed {(int)response.StatusCode}: {body.ToJsonString()}");
            await Task.Delay(250);
        }
    }

    private static async Task WaitForSearchAsync(HttpClient agent, string q)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var found = await agent.SendJsonAsync(HttpMethod.Post, "api/search/organizations", new { q }).OkJsonAsync();
            if (found["values"]!.AsArray().Count == 1)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"'{q}' never reached the search index");
            await Task.Delay(250);
        }
    }
}
