using ConnectApp.Fields;
using Npgsql;
using NpgsqlTypes;

namespace ConnectApp.Records;

/// <summary>
/// The issue panel's one database read, on the hot path of every issue an agent opens: the customers named, with
/// their organizations, in a single round trip. The tenant setting travels in the same batch as the query and is
/// transaction-local (<c>set_config(…, true)</c>): a batch is one implicit transaction, so row-level security sees
/// the caller's tenant for the query, and the pooled connection goes back without it. The statements are
/// auto-prepared by the data source, and no EF expression work runs per request. The prepared query keeps one generic
/// plan (index lookups whatever the accountIds): left to choose, PostgreSQL re-planned it on every execution, which
/// was half of its CPU under load (perf, 2026-11-24).
/// <para>
/// Its connections come from a small pool of their own (<see cref="CreateDataSource"/>) that skips Npgsql's reset on
/// return (<c>No Reset On Close</c>): the reset is six statements (<c>RESET ALL; UNLISTEN *; SELECT
/// pg_advisory_unlock_all(); …</c>) PostgreSQL parses and runs before every panel read, most of its work besides the
/// read itself. Safe because nothing else uses these connections and this read leaves no session state: both settings
/// are transaction-local and end with the batch. The shared pool, where EF sets <c>app.tenant_id</c> for the session,
/// keeps its reset.
/// </para>
/// </summary>
internal sealed class PanelReader([FromKeyedServices(PanelReader.DataSourceKey)] NpgsqlDataSource dataSource)
{
    public const string DataSourceKey = "issue-panel";

    /// <summary>At most this many connections for the panel, beside the shared pool's (DatabaseUrl's Max Pool Size).</summary>
    public const int MaxPoolSize = 10;

    public static NpgsqlDataSource CreateDataSource(string connectionString) =>
        new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(connectionString) { NoResetOnClose = true, MaxPoolSize = MaxPoolSize }.ConnectionString)
            .Build();

    // Explicit tenant filter as well as the policy: the planner goes straight to (tenant_id, entity, external_id).
    private const string Sql = """
        SELECT c.id, c.external_id, c.name, c.email, c.field_values::text, c.version, c.removed_at,
               o.id, o.external_id, o.name, o.email, o.field_values::text, o.version, o.removed_at
        FROM records c
        LEFT JOIN memberships m ON m.tenant_id = c.tenant_id AND m.customer_id = c.id
        LEFT JOIN records o ON o.tenant_id = c.tenant_id AND o.id = m.organization_id
        WHERE c.tenant_id = $1 AND c.entity = 'Customer' AND c.external_id = ANY($2)
        """;

    /// <summary>The customers with these accountIds, and each one's organizations.</summary>
    public async Task<IReadOnlyList<(Record Customer, List<Record> Organizations)>> ReadAsync(Guid tenantId, IReadOnlyList<string> accountIds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT set_config('app.tenant_id', $1, true), set_config('plan_cache_mode', 'force_generic_plan', true)") { Parameters = { new() { Value = tenantId.ToString() } } },
                new NpgsqlBatchCommand(Sql)
                {
                    Parameters =
                    {
                        new() { Value = tenantId, NpgsqlDbType = NpgsqlDbType.Uuid },
                        new() { Value = accountIds.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                    },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var customers = new Dictionary<Guid, (Record Customer, List<Record> Organizations)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            if (!customers.TryGetValue(id, out var entry))
            {
                entry = (Read(reader, 0, tenantId, RecordEntity.Customer), []);
                customers[id] = entry;
            }

            if (!await reader.IsDBNullAsync(7, cancellationToken))
            {
                entry.Organizations.Add(Read(reader, 7, tenantId, RecordEntity.Organization));
            }
        }

        return [.. customers.Values];
    }

    private static Record Read(NpgsqlDataReader reader, int at, Guid tenantId, RecordEntity entity) => new()
    {
        Id = reader.GetGuid(at),
        TenantId = tenantId,
        Entity = entity,
        ExternalId = reader.GetString(at + 1),
        Name = reader.GetString(at + 2),
        Email = reader.IsDBNull(at + 3) ? null : reader.GetString(at + 3),
        ValuesJson = reader.GetString(at + 4),
        Version = reader.GetInt32(at + 5),
        RemovedAt = reader.IsDBNull(at + 6) ? null : reader.GetFieldValue<DateTimeOffset>(at + 6),
    };
}
