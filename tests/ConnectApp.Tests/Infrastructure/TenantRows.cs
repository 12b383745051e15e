using Npgsql;

namespace ConnectApp.Tests.Infrastructure;

/// <summary>Raw reads of the tenants table, bypassing the app, to assert what is (and is not) stored.</summary>
internal static class TenantRows
{
    public sealed record Row(Guid Id, string ClientKey, string BaseUrl, byte[] SecretCiphertext, string SecretKeyId, bool Enabled, DateTimeOffset InstalledAt, DateTimeOffset UpdatedAt, DateTimeOffset? UninstalledAt);

    public static async Task<Row?> FindAsync(string connectionString, string clientKey)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT id, client_key, base_url, shared_secret_ciphertext, shared_secret_key_id, enabled, installed_at, updated_at, uninstalled_at FROM tenants WHERE client_key = @k", connection);
        command.Parameters.AddWithValue("k", clientKey);
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return null;
        }

        return new Row(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), (byte[])reader[3], reader.GetString(4), reader.GetBoolean(5),
            reader.GetFieldValue<DateTimeOffset>(6), reader.GetFieldValue<DateTimeOffset>(7), reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8));
    }

    /// <summary>Every tenant row, as comparable text: the "nothing changed" check of the attack tests.</summary>
    public static async Task<string> SnapshotAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT string_agg(concat_ws('|', id, client_key, base_url, encode(shared_secret_ciphertext, 'hex'), enabled, updated_at, uninstalled_at), E'\\n' ORDER BY client_key) FROM tenants", connection);
        var events = new NpgsqlCommand("SELECT count(*) FROM tenant_lifecycle_events", connection);
        return (await command.ExecuteScalarAsync() as string ?? string.Empty) + "\nevents visible without tenant: " + await events.ExecuteScalarAsync();
    }

    /// <summary>
    /// A checksum of every row the tenant owns, in every table with <c>tenant_id</c> (found from the schema, so a new
    /// table is covered without anyone remembering to), read under the tenant's row-level security: "nothing changed"
    /// for the bad-input tests. Also the row count, so a test can see the checksum covers something.
    /// </summary>
    /// <remarks>
    /// Left out, because the caller's request does not make them: <c>api_tokens.last_used_at</c> (authenticating with a
    /// token records its use, at most once a minute, whatever the request then gets), the outbox's delivery marks
    /// (<c>sent_at</c>, <c>applied_at</c>: the relay and consumers set them in the background; a new message still
    /// counts) and the messages a schedule writes for every installed tenant (<c>personal-data.report.v1</c>, daily),
    /// <c>search_documents</c> and <c>search_sort_keys</c> (the mirror, rebuilt in the background from what is counted here), and
    /// <c>directory_sync_runs</c> (the progress of the directory sync every install queues, advanced by the worker; what
    /// a sync writes to records is counted).
    /// </remarks>
    public static async Task<(string Checksum, long Rows)> ChecksumAsync(string connectionString, Guid tenantId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var scope = new NpgsqlCommand($"SELECT set_config('app.tenant_id', '{tenantId}', false)", connection))
        {
            await scope.ExecuteNonQueryAsync();
        }

        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id' AND table_name NOT IN (SELECT table_name FROM information_schema.views) AND table_name NOT IN ('search_documents', 'search_sort_keys', 'directory_sync_runs') ORDER BY table_name", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        var parts = new List<string>();
        long rows = 0;
        foreach (var table in tables)
        {
            await using var command = new NpgsqlCommand(
                $"SELECT count(*), coalesce(md5(string_agg((to_jsonb(t) - 'last_used_at' - 'sent_at' - 'applied_at')::text, E'\\n' ORDER BY (to_jsonb(t) - 'last_used_at' - 'sent_at' - 'applied_at')::text)), '') FROM \"{table}\" t WHERE tenant_id = '{tenantId}'{(table == "outbox_messages" ? " AND type <> 'personal-data.report.v1'" : string.Empty)}", connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            rows += reader.GetInt64(0);
            parts.Add($"{table}:{reader.GetInt64(0)}:{reader.GetString(1)}");
        }

        return (string.Join('\n', parts), rows);
    }
}
