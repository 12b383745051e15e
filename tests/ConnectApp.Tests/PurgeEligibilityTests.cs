using ConnectApp.Tests.Infrastructure;

namespace ConnectApp.Tests;

/// <summary>The consumer checks again, when it runs, that the tenant is still due: a command published before a reinstall purges nothing.</summary>
[Collection(AppCollection.Name)]
public sealed class PurgeEligibilityTests(ConnectAppFixture app)
{
    [Fact]
    public async Task RetentionPurgeCommand_ForATenantReinstalledSince_IsCancelled_AndDeletesNothing()
    {
        var site = await RetentionData.FillAsync(app);
        var tenantId = await RetentionData.TenantIdAsync(app, site);
        await RetentionData.SettleAsync(app, tenantId);
        var before = await TenantTableCounts.CountAsync(app.DatabaseConnectionString, tenantId);
        var checksum = await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId);

        // What the Quartz job wrote while the tenant was uninstalled and due; the tenant is installed now (reinstalled since).
        var purgeId = Guid.NewGuid();
        await TenantTableCounts.ScalarAsync<int>(app.DatabaseConnectionString,
            """
            INSERT INTO tenant_purges (id, purged_tenant_id, client_key_hash, reason, state, due_at, requested_at, updated_at, row_counts)
            VALUES (@p, @t, 'x', 'Retention', 'Requested', now(), now(), now(), '{}');
            INSERT INTO outbox_messages (tenant_id, type, payload) VALUES (@t, 'purge.requested.v1', jsonb_build_object('tenantId', @t::text, 'purgeId', @p::text));
            SELECT pg_notify('connectapp_outbox', '');
            """, ("p", purgeId), ("t", tenantId));

        await TenantTableCounts.WaitAsync(async () => await RetentionData.PurgeCountAsync(app, tenantId, "Cancelled") == 1, TimeSpan.FromSeconds(30), "the purge to be cancelled");
        var after = await TenantTableCounts.CountAsync(app.DatabaseConnectionString, tenantId);
        Assert.All(before.Where(c => c.Key != "outbox_messages"), c => Assert.Equal(c.Value, after[c.Key]));
        Assert.Equal(checksum.Rows + 1, (await TenantRows.ChecksumAsync(app.DatabaseConnectionString, tenantId)).Rows); // only the command's own outbox row is new
        Assert.NotNull(await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey));
        Assert.Equal("reinstalled before the purge ran", await TenantTableCounts.ScalarAsync<string>(app.DatabaseConnectionString, "SELECT note FROM tenant_purges WHERE id = @p", ("p", purgeId)));
    }
}
