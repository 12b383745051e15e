using System.Net;
using System.Text.Json.Nodes;
using JiraSimulator;

namespace ConnectApp.Tests.Infrastructure;

/// <summary>Directory sync and membership write-back helpers shared by the membership, email-rule and scheduled-sync tests.</summary>
internal static class SyncTesting
{
    /// <summary>Waits for the newest sync run of the site to finish; its view.</summary>
    public static async Task<JsonObject> WaitForLatestAsync(HttpClient admin, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var list = (await admin.GetAsync("api/admin/sync").OkJsonAsync(HttpStatusCode.OK, array: true)).AsArray();
            if (list.Count > 0 && list[0]!["status"]!.GetValue<string>() is "succeeded" or "failed" or "skipped")
            {
                return list[0]!.AsObject();
            }

            Assert.True(DateTime.UtcNow < deadline, "sync did not finish: " + (list.Count > 0 ? list[0]!.ToJsonString() : "none"));
            await Task.Delay(100);
        }
    }

    /// <summary>Starts a sync as the admin and waits for it to finish.</summary>
    public static async Task<JsonObject> SyncAsync(HttpClient admin, TimeSpan? timeout = null)
    {
        using var started = await admin.PostAsync("api/admin/sync", null);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = JsonNode.Parse(await started.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var run = await admin.GetAsync($"api/admin/sync/{id}").OkJsonAsync();
            if (run["status"]!.GetValue<string>() is "succeeded" or "failed" or "skipped")
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, "sync did not finish: " + run.ToJsonString());
            await Task.Delay(100);
        }
    }

    /// <summary>The site's record id of a JSM id or accountId.</summary>
    public static async Task<Guid> RecordIdAsync(ConnectAppFixture app, SimulatedSite site, string externalId)
    {
        var tenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        return await TenantTableCounts.ScalarAsync<Guid>(app.DatabaseConnectionString, "SELECT id FROM records WHERE tenant_id = @t AND external_id = @e", ("t", tenant), ("e", externalId));
    }

    /// <summary>The site's memberships as (accountId, organization JSM id).</summary>
    public static async Task<HashSet<(string Customer, string Organization)>> MembershipsAsync(ConnectAppFixture app, SimulatedSite site)
    {
        var tenant = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await using var connection = new Npgsql.NpgsqlConnection(TenantTableCounts.Superuser(app.DatabaseConnectionString));
        await connection.OpenAsync();
        await using var read = new Npgsql.NpgsqlCommand("SELECT c.external_id, o.external_id FROM memberships m JOIN records c ON c.id = m.customer_id JOIN records o ON o.id = m.organization_id WHERE m.tenant_id = @t", connection);
        read.Parameters.AddWithValue("t", tenant);
        var set = new HashSet<(string, string)>();
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            set.Add((reader.GetString(0), reader.GetString(1)));
        }

        return set;
    }

    /// <summary>The write-back report (every page), optionally filtered.</summary>
    public static async Task<List<JsonObject>> WriteBacksAsync(HttpClient admin, string? query = null)
    {
        var all = new List<JsonObject>();
        string? cursor = null;
        do
        {
            var page = await admin.GetAsync($"api/admin/writeback?limit=500{(query is null ? string.Empty : "&" + query)}{(cursor is null ? string.Empty : "&cursor=" + cursor)}").OkJsonAsync();
            all.AddRange(page["values"]!.AsArray().Select(v => v!.AsObject()));
            cursor = page["nextCursor"]?.GetValue<string>();
        }
        while (cursor is not null);
        return all;
    }

    /// <summary>Waits until no write-back of the site is pending; the report.</summary>
    public static async Task<List<JsonObject>> SettledWriteBacksAsync(HttpClient admin, TimeSpan? timeout = null)
    {
        List<JsonObject> all = [];
        await TenantTableCounts.WaitAsync(async () => (all = await WriteBacksAsync(admin)).All(w => w["state"]!.GetValue<string>() != "pending"), timeout ?? TimeSpan.FromSeconds(60), "the write-backs to finish");
        return all;
    }
}
