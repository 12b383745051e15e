using System.Net;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>
/// Personal data reporting through the worker (outbox → RabbitMQ → consumer → the simulator's report-accounts API):
/// every stored accountId is reported; a <c>closed</c> account leaves no trace of its name, email or values in any
/// table (read as the superuser, every column of every row) or the search index; an <c>updated</c> one is read again.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class AccountReportingTests(ConnectAppFixture app)
{
    private const string Closed = "557058:zed-closedman";
    private const string Updated = "557058:ursula-updated";

    [Fact]
    public async Task ClosedAccount_IsErasedEverywhere_UpdatedAccountIsReadAgain_AndEveryStoredAccountIsReported()
    {
        var site = ConnectAppFixture.NewSite();
        site.Directory.AddCustomer(Updated, "Ursula Updated", "ursula@example.com");
        await app.InstallAsync(site);
        var admin = app.As(site, SiteRole.Admin, "557058:report-admin");
        var agent = app.As(site, SiteRole.Agent, "557058:report-agent");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "customer", key = "nickname", label = "Nickname", type = "text", visibility = "customers-edit" }).OkJsonAsync(HttpStatusCode.Created);
        var zed = await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = Closed, name = "Zed Closedman", email = "zed.closedman@example.com", values = new { nickname = "Zeddy Secret" } })
            .OkJsonAsync(HttpStatusCode.Created);
        var customer = app.As(site, SiteRole.Customer, Closed); // the customer edits a value of their own: an audit row with them as actor
        await customer.SendJsonAsync(HttpMethod.Patch, $"api/portal/customers/{zed["id"]}/values", new { values = new { nickname = "Zed Himself" } }, $"W/\"{zed["version"]}\"").OkJsonAsync();
        System.Text.Json.Nodes.JsonNode? ursula = null;
        for (var attempt = 0; attempt < 100 && ursula is null; attempt++) // JSM's customer, brought in by the install's sync
        {
            ursula = (await agent.GetAsync("api/customers?q=Ursula").OkJsonAsync())["values"]!.AsArray().SingleOrDefault();
            await Task.Delay(ursula is null ? 200 : 0);
        }

        Assert.NotNull(ursula);
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        Assert.True(await TracesAsync("Zed Closedman", "zed.closedman@example.com", "Zeddy Secret", "Zed Himself") > 0, "stored before the report");

        site.AccountStatuses[Closed] = "closed";
        site.AccountStatuses[Updated] = "updated";
        site.Directory.RenameCustomer(Updated, "Ursula Renamed", "ursula.renamed@example.com");
        site.ReportCyclePeriodSeconds = 3 * 24 * 3600;

        // What the daily job writes for a tenant whose cycle is up.
        await using (var connection = new NpgsqlConnection(app.DatabaseConnectionString))
        {
            await connection.OpenAsync();
            await using var insert = new NpgsqlCommand(
                "INSERT INTO outbox_messages (tenant_id, type, payload, created_at) VALUES (@t, 'personal-data.report.v1', jsonb_build_object('tenantId', @t::text), now())", connection);
            insert.Parameters.AddWithValue("t", tenantId);
            await insert.ExecuteNonQueryAsync();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await ScalarAsync<int?>($"SELECT accounts_report_cycle_seconds FROM tenants WHERE id = '{tenantId}'") is null
            || await ScalarAsync<long>($"SELECT count(*) FROM outbox_messages WHERE tenant_id = '{tenantId}' AND applied_at IS NULL") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the report and the changes it made were not applied in time");
            await Task.Delay(200);
        }

        Assert.Equal(3 * 24 * 3600, await ScalarAsync<int?>($"SELECT accounts_report_cycle_seconds FROM tenants WHERE id = '{tenantId}'"));
        var reported = site.ReportedAccounts.ToHashSet(StringComparer.Ordinal);
        Assert.Superset(new HashSet<string> { Closed, Updated, "557058:report-admin", "557058:report-agent" }, reported);
        Assert.DoesNotContain(reported, a => a.StartsWith("system:", StringComparison.Ordinal) || a.StartsWith("token:", StringComparison.Ordinal));

        Assert.Equal(0, await TracesAsync("Zed Closedman", "zed.closedman@example.com", "Zeddy Secret", "Zed Himself"));
        var erased = await agent.GetAsync($"api/customers/{zed["id"]}").OkJsonAsync();
        Assert.Equal("Closed account", erased["name"]!.GetValue<string>());
        Assert.Null(erased["email"]);
        var renamed = await agent.GetAsync($"api/customers/{ursula!["id"]}").OkJsonAsync();
        Assert.Equal("Ursula Renamed", renamed["name"]!.GetValue<string>());
        Assert.Equal("ursula.renamed@example.com", renamed["email"]!.GetValue<string>());
        Assert.Equal(1, await app.CountAuditAsync(site, "account.erased"));
    }

    private Task<long> TracesAsync(params string[] needles) => TenantTableCounts.TracesAsync(app.DatabaseConnectionString, needles);

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(TenantTableCounts.Superuser(app.DatabaseConnectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull or null ? default! : (T)value;
    }
}
