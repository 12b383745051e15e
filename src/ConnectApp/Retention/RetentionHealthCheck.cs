using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace ConnectApp.Retention;

/// <summary>
/// Operators' view of retention, in the readiness answer: the next scheduled purges (clientKey hash and due time, from
/// Quartz's own table, so it is the real schedule) and the last purges with their row counts. Never a name or a key.
/// Always healthy: a purge is not a reason to take an instance out of the load balancer.
/// </summary>
internal sealed class RetentionHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public const int Shown = 10;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await ReadAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            // The postgresql check reports the outage; this view is for operators, never a reason of its own to be unready.
            return HealthCheckResult.Degraded("The retention view could not be read: " + e.GetType().Name);
        }
    }

    private async Task<HealthCheckResult> ReadAsync(CancellationToken cancellationToken)
    {
        var scheduled = new List<object>();
        await using (var command = dataSource.CreateCommand(
            $"""
            SELECT encode(sha256(convert_to(t.client_key, 'UTF8')), 'hex'), q.next_fire_time FROM qrtz_triggers q
            JOIN tenants t ON replace(t.id::text, '-', '') = substring(q.trigger_name from 7)
            WHERE q.trigger_group = '{RetentionSchedule.TenantTriggerGroup}' ORDER BY q.next_fire_time LIMIT {Shown}
            """))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                scheduled.Add(new { tenant = reader.GetString(0), dueAt = reader.IsDBNull(1) ? (DateTimeOffset?)null : new DateTimeOffset(reader.GetInt64(1), TimeSpan.Zero) });
            }
        }

        var last = new List<object>();
        await using (var command = dataSource.CreateCommand(
            $"SELECT client_key_hash, reason, state, due_at, finished_at, row_counts::text FROM tenant_purges WHERE finished_at IS NOT NULL OR state = 'Running' ORDER BY coalesce(finished_at, 'infinity') DESC LIMIT {Shown}"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                last.Add(new
                {
                    tenant = reader.GetString(0),
                    reason = reader.GetString(1),
                    state = reader.GetString(2),
                    dueAt = reader.GetFieldValue<DateTimeOffset>(3),
                    finishedAt = reader.IsDBNull(4) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(4),
                    rows = System.Text.Json.JsonDocument.Parse(reader.GetString(5)).RootElement.Clone(),
                });
            }
        }

        return HealthCheckResult.Healthy($"{scheduled.Count} purge(s) scheduled (first {Shown} shown), {last.Count} recent purge(s)",
            new Dictionary<string, object> { ["scheduledPurges"] = scheduled, ["lastPurges"] = last });
    }
}
