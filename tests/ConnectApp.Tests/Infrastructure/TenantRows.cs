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
}
