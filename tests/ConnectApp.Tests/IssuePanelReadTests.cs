using System.Net.Http.Json;
using ConnectApp.Records;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>The issue panel's single-round-trip read: the tenant goes with the query and never stays on the connection.</summary>
[Collection(AppCollection.Name)]
public sealed class IssuePanelReadTests(ConnectAppFixture app)
{
    [Fact]
    public async Task PanelRead_SeesOnlyItsTenant_AndLeavesNoTenantOnThePooledConnection()
    {
        var site = await app.InstallSiteAsync();
        var other = await app.InstallSiteAsync();
        var agent = app.As(site, SiteRole.Agent);
        var org = await agent.PostAsJsonAsync("api/organizations", new { jsmId = "77", name = "Panel Org" }).OkJsonAsync(System.Net.HttpStatusCode.Created);
        await agent.PostAsJsonAsync("api/customers", new { accountId = "557058:panel-read", name = "Pat Panel", email = "pat@example.com", organizationIds = new[] { org["id"]!.GetValue<string>() } }).OkJsonAsync(System.Net.HttpStatusCode.Created);
        var tenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        var otherTenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, other.ClientKey))!.Id;

        // One physical connection, so the second open is the connection the panel read used, and no reset on its return:
        // only the transaction-local setting keeps the tenant from staying on it.
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(app.DatabaseConnectionString) { MaxPoolSize = 1, NoResetOnClose = true }.ConnectionString);
        var reader = new PanelReader(dataSource);

        var rows = await reader.ReadAsync(tenant, ["557058:panel-read", "557058:nobody"], CancellationToken.None);
        var (customer, organizations) = Assert.Single(rows);
        Assert.Equal("Pat Panel", customer.Name);
        Assert.Equal("pat@example.com", customer.Email);
        Assert.Equal("Panel Org", Assert.Single(organizations).Name);

        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            await using var setting = new NpgsqlCommand("SELECT coalesce(current_setting('app.tenant_id', true), '')", connection);
            Assert.Equal(string.Empty, await setting.ExecuteScalarAsync());
            await using var visible = new NpgsqlCommand("SELECT count(*) FROM records", connection);
            Assert.Equal(0L, await visible.ExecuteScalarAsync()); // row-level security: no tenant, no rows
        }

        // Another tenant asking for the same accountId gets nothing, many times over (after the statement is prepared).
        for (var i = 0; i < 5; i++)
        {
            Assert.Empty(await reader.ReadAsync(otherTenant, ["557058:panel-read"], CancellationToken.None));
            Assert.Single(await reader.ReadAsync(tenant, ["557058:panel-read"], CancellationToken.None));
        }
    }
}
