using System.Net;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>Deletion on request: two steps, only admins, the same purge as retention's, the app stays installed and empty.</summary>
[Collection(AppCollection.Name)]
public sealed class DataDeletionTests(ConnectAppFixture app)
{
    [Fact]
    public async Task DeletionOnRequest_AfterConfirmation_EmptiesEveryTenantTableAndTheIndex_AppStaysInstalled_OtherSiteUntouched()
    {
        var site = await RetentionData.FillAsync(app);
        var other = await RetentionData.FillAsync(app);
        var siteId = await RetentionData.TenantIdAsync(app, site);
        var otherId = await RetentionData.TenantIdAsync(app, other);
        await RetentionData.SettleAsync(app, siteId, otherId);
        var otherChecksum = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, otherId);
        var otherCounts = await TenantTableCounts.CountAsync(app.DatabaseConnectionString, otherId);
        var admin = app.As(site, SiteRole.Admin);
        var countsBefore = await TenantTableCounts.CountAsync(app.DatabaseConnectionString, siteId);

        // Agents may not; a confirmation without the right token or phrase, or another site's, deletes nothing.
        await app.As(site, SiteRole.Agent).PostAsync("api/admin/data-deletion", null).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        var request = await admin.PostAsync("api/admin/data-deletion", null).OkJsonAsync(HttpStatusCode.Created);
        var token = request["confirmationToken"]!.GetValue<string>();
        var phrase = request["confirmationPhrase"]!.GetValue<string>();
        TestLog.RecordSecret(token);
        Assert.Equal("delete all data of " + site.BaseUrl.Host, phrase);
        var otherRequest = await app.As(other, SiteRole.Admin).PostAsync("api/admin/data-deletion", null).OkJsonAsync(HttpStatusCode.Created);
        TestLog.RecordSecret(otherRequest["confirmationToken"]!.GetValue<string>());
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/data-deletion/confirm", new { confirmationToken = token, confirmationPhrase = "delete all data" })
            .ProblemAsync(HttpStatusCode.BadRequest, "data_deletion.confirmation_invalid");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/data-deletion/confirm", new { confirmationToken = otherRequest["confirmationToken"]!.GetValue<string>(), confirmationPhrase = otherRequest["confirmationPhrase"]!.GetValue<string>() })
            .ProblemAsync(HttpStatusCode.BadRequest, "data_deletion.confirmation_invalid");
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/data-deletion/confirm", new { confirmationToken = token })
            .ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        await Task.Delay(500);
        Assert.Equal(countsBefore, await TenantTableCounts.CountAsync(app.DatabaseConnectionString, siteId));

        // Confirmed: the purge runs in the worker through RabbitMQ.
        var accepted = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/data-deletion/confirm", new { confirmationToken = token, confirmationPhrase = phrase }).OkJsonAsync(HttpStatusCode.Accepted);
        var id = accepted["id"]!.GetValue<string>();
        await TenantTableCounts.WaitAsync(async () => await RetentionData.PurgeCountAsync(app, siteId, "Done") == 1, TimeSpan.FromSeconds(60), "the deletion");
        Assert.All(await TenantTableCounts.CountAsync(app.DatabaseConnectionString, siteId), c => Assert.True(c.Value == 0, $"{c.Key} still holds {c.Value} row(s)"));
        var status = await admin.GetAsync($"api/admin/data-deletion/{id}").OkJsonAsync();
        Assert.Equal("Done", status["state"]!.GetValue<string>());
        Assert.Equal(countsBefore["records"], status["rowCounts"]!["records"]!.GetValue<long>());

        // The app stays installed (and usable, empty); the token was single-use; the other site is untouched.
        var row = await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey);
        Assert.NotNull(row);
        Assert.Null(row.UninstalledAt);
        var organizations = await app.As(site, SiteRole.Agent).GetAsync("api/organizations").OkJsonAsync();
        Assert.Empty(organizations["values"]!.AsArray());
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/data-deletion/confirm", new { confirmationToken = token, confirmationPhrase = phrase })
            .ProblemAsync(HttpStatusCode.BadRequest, "data_deletion.confirmation_invalid");
        Assert.Equal(otherChecksum, await TenantRows.ChecksumAsync(app.DatabaseConnectionString, otherId));
        Assert.Equal(otherCounts.Where(c => c.Key != "outbox_messages"), (await TenantTableCounts.CountAsync(app.DatabaseConnectionString, otherId)).Where(c => c.Key != "outbox_messages"));
    }

    [Fact]
    public async Task Confirmation_AfterTenMinutes_Is410_AndNothingIsDeleted()
    {
        var site = await app.InstallSiteAsync();
        var siteId = await RetentionData.TenantIdAsync(app, site);
        var admin = app.As(site, SiteRole.Admin);
        var request = await admin.PostAsync("api/admin/data-deletion", null).OkJsonAsync(HttpStatusCode.Created);
        TestLog.RecordSecret(request["confirmationToken"]!.GetValue<string>());
        await TenantTableCounts.ScalarAsync<int>(app.DatabaseConnectionString,
            "UPDATE tenant_purges SET confirmation_expires_at = now() - interval '1 second' WHERE purged_tenant_id = @t", ("t", siteId));

        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/data-deletion/confirm",
                new { confirmationToken = request["confirmationToken"]!.GetValue<string>(), confirmationPhrase = request["confirmationPhrase"]!.GetValue<string>() })
            .ProblemAsync(HttpStatusCode.Gone, "data_deletion.confirmation_expired");
        Assert.Equal(0, await RetentionData.PurgeCountAsync(app, siteId, "Requested") + await RetentionData.PurgeCountAsync(app, siteId, "Done"));
        Assert.True((await TenantTableCounts.CountAsync(app.DatabaseConnectionString, siteId))["tenant_lifecycle_events"] > 0);
    }
}
