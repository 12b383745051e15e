using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ConnectApp.Persistence;

/// <summary>
/// Sets <c>app.tenant_id</c> on every connection EF opens, to the scope's tenant or to '' (no tenant), so a
/// pooled connection never carries another request's tenant.
/// </summary>
internal sealed class TenantConnectionInterceptor(TenantScope scope) : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = Command(connection, scope.TenantId);
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = Command(connection, scope.TenantId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static DbCommand Command(DbConnection connection, Guid? tenantId)
    {
        var command = connection.CreateCommand();
        command.CommandText = "SELECT set_config('app.tenant_id', @tenant, false)";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "tenant";
        parameter.Value = tenantId?.ToString() ?? string.Empty;
        command.Parameters.Add(parameter);
        return command;
    }
}
