using System.Net;
using System.Net.Http.Json;
using ConnectApp.Persistence;
using ConnectApp.Records;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>
/// What the hot-path work (issue 12) shares between requests must not carry one request's tenant or trust into another:
/// the EF options and interceptors built once, remembered context tokens, and the issue panel's pool without reset.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class HotPathTests(ConnectAppFixture app)
{
    [Fact]
    public async Task EfContexts_ShareOneOptions_YetConcurrentScopesEachSeeOnlyTheirOwnTenant()
    {
        var a = await app.InstallSiteAsync();
        var b = await app.InstallSiteAsync();
        await app.SeedCustomersAsync(a, 3);
        await app.SeedCustomersAsync(b, 5);
        var tenantA = (await TenantRows.FindAsync(app.DatabaseConnectionString, a.ClientKey))!.Id;
        var tenantB = (await TenantRows.FindAsync(app.DatabaseConnectionString, b.ClientKey))!.Id;

        // The premise: one options object (and so one set of interceptors) for every context.
        await using (var first = app.App.Services.CreateAsyncScope())
        await using (var second = app.App.Services.CreateAsyncScope())
        {
            var one = first.ServiceProvider.GetRequiredService<AppDbContext>();
            var two = second.ServiceProvider.GetRequiredService<AppDbContext>();
            Assert.Same(one.GetService<IDbContextOptions>(), two.GetService<IDbContextOptions>());
        }

        // Interleaved scopes for A, B and no tenant, many at once: each context's connections act for its own scope's tenant.
        var seen = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            Guid? tenant = (i % 3) switch { 0 => tenantA, 1 => tenantB, _ => null };
            await using var scope = app.App.Services.CreateAsyncScope();
            if (tenant is { } id)
            {
                scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(id);
            }

            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var count = await db.Set<ConnectApp.Records.Record>().CountAsync(r => r.ExternalId.StartsWith("557058:seed-"));
            var tenants = await db.Set<ConnectApp.Records.Record>().Select(r => r.TenantId).Distinct().ToListAsync();
            return (Tenant: tenant, Count: count, Tenants: tenants);
        }));

        foreach (var (tenant, count, tenants) in seen)
        {
            Assert.Equal(tenant == tenantA ? 3 : tenant == tenantB ? 5 : 0, count);
            Assert.All(tenants, t => Assert.Equal(tenant, t));
        }
    }

    [Fact]
    public async Task EfConnections_PlanEveryStatementForTheSiteAtHand_NeverWithAGenericPlan()
    {
        // A generic plan of a prepared statement is made without the tenant's numbers; on a pooled connection shared by
        // sites of 100 and of 1,000,000 customers it sorted every customer of the large one for each directory page.
        var site = await app.InstallSiteAsync();
        var tenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await using var scope = app.App.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(tenant);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        for (var i = 0; i < 8; i++) // past the five runs after which PostgreSQL may choose a generic plan
        {
            Assert.Equal("force_custom_plan", await db.Database.SqlQueryRaw<string>("SELECT current_setting('plan_cache_mode') AS \"Value\"").SingleAsync());
        }
    }

    [Fact]
    public async Task EveryPooledConnection_PlansForTheSiteAtHand_EvenAfterAStatementChangedTheSetting()
    {
        // The search engine, Quartz and the listeners open connections of the data source without EF: the setting is the
        // connections' session default (the connection string), so it holds on all of them and comes back when the pool
        // resets a returned connection. One connection in the pool here, so every open after the first is such a reset.
        await using (var appConnection = await app.App.Services.GetRequiredService<NpgsqlDataSource>().OpenConnectionAsync())
        {
            await using var read = new NpgsqlCommand("SELECT current_setting('plan_cache_mode')", appConnection);
            Assert.Equal("force_custom_plan", await read.ExecuteScalarAsync());
        }

        var connectionString = app.App.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DatabaseOptions>>().Value.ConnectionString;
        await using var single = new NpgsqlDataSourceBuilder(connectionString) { ConnectionStringBuilder = { MaxPoolSize = 1 } }.Build();
        var backends = new HashSet<int>();
        for (var i = 0; i < 3; i++)
        {
            await using var connection = await single.OpenConnectionAsync();
            await using var read = new NpgsqlCommand("SELECT current_setting('plan_cache_mode'), pg_backend_pid()", connection);
            await using (var reader = await read.ExecuteReaderAsync())
            {
                Assert.True(await reader.ReadAsync());
                Assert.Equal("force_custom_plan", reader.GetString(0));
                backends.Add(reader.GetInt32(1));
            }

            await using var change = new NpgsqlCommand("SET plan_cache_mode = auto", connection);
            await change.ExecuteNonQueryAsync();
        }

        Assert.Single(backends); // the same server session each time: the setting came back with the pool's reset
    }

    [Fact]
    public async Task ContextToken_AcceptedBefore_IsRefusedOnceTheSiteIsDisabledOrUninstalled()
    {
        var site = await app.InstallSiteAsync();
        var client = app.AsContext(site, "557058:remembered");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/whoami")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/whoami")).StatusCode); // now remembered

        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.SetEnabledAsync(app.Client(), site, enabled: false)).StatusCode);
        var disabled = await client.GetAsync("/api/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, disabled.StatusCode);
        Assert.Equal("jwt.tenant_disabled", await LifecycleTests.Code(disabled));

        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.SetEnabledAsync(app.Client(), site, enabled: true)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/whoami")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.UninstallAsync(app.Client(), site)).StatusCode);
        var uninstalled = await client.GetAsync("/api/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, uninstalled.StatusCode);
        Assert.Equal("jwt.tenant_uninstalled", await LifecycleTests.Code(uninstalled));
    }

    [Fact]
    public async Task ContextToken_RememberedOnOneEndpoint_IsStillRefusedWhereContextTokensAreNot()
    {
        var site = await app.InstallSiteAsync();
        var client = app.AsContext(site, "557058:remembered");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/whoami")).StatusCode);

        // Jira's webhooks take no context token (they are signed for the request): remembered or not, it is refused.
        await client.PostAsJsonAsync("/webhooks/jira", new { webhookEvent = "jira:issue_created" })
            .ProblemAsync(HttpStatusCode.Unauthorized, "jwt.context_token_not_allowed");
    }

    [Fact]
    public async Task PanelPool_AfterPanelRequests_HoldsNoTenantOnAnyOfItsConnections()
    {
        var site = await app.InstallSiteAsync();
        var agent = app.As(site, SiteRole.Agent);
        await agent.PostAsJsonAsync("api/customers", new { accountId = "557058:pool-check", name = "Pool Check" }).OkJsonAsync(HttpStatusCode.Created);
        await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => agent.GetAsync("api/issue-panel?reporter=557058:pool-check").OkJsonAsync()));

        // Every connection the pool can hand out at once (so each one the panel used): no tenant, so no rows.
        var dataSource = app.App.Services.GetRequiredKeyedService<NpgsqlDataSource>(PanelReader.DataSourceKey);
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < PanelReader.MaxPoolSize; i++)
            {
                connections.Add(await dataSource.OpenConnectionAsync());
            }

            foreach (var connection in connections)
            {
                await using var check = new NpgsqlCommand("SELECT coalesce(current_setting('app.tenant_id', true), ''), (SELECT count(*) FROM records)", connection);
                await using var reader = await check.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync());
                Assert.Equal(string.Empty, reader.GetString(0));
                Assert.Equal(0L, reader.GetInt64(1));
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
