using System.Collections.Concurrent;
using Npgsql;

namespace ConnectApp.Tenants;

/// <summary>
/// Records that a tenant used the app (an authenticated request), for the inactivity purge. Cheap: at most one write
/// per tenant per hour per process (remembered in memory), and the write itself skips a row touched within the hour.
/// </summary>
internal sealed class TenantActivity(NpgsqlDataSource dataSource, TimeProvider time, ILogger<TenantActivity> logger)
{
    public static readonly TimeSpan Resolution = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _written = new();

    public async Task SeenAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_written.TryGetValue(tenantId, out var last) && now - last < Resolution)
        {
            return;
        }

        _written[tenantId] = now;
        try
        {
            await using var command = dataSource.CreateCommand("UPDATE tenants SET last_seen_at = @now WHERE id = @id AND (last_seen_at IS NULL OR last_seen_at < @since)");
            command.Parameters.AddWithValue("now", now);
            command.Parameters.AddWithValue("since", now - Resolution);
            command.Parameters.AddWithValue("id", tenantId);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // Activity is a hint for a purge weeks away: a failed write must never fail or slow the request (in an outage
            // every request would try again). The next try is in an hour.
            logger.LogWarning(e, "Could not record activity of tenant {TenantId}", tenantId);
        }
    }
}
