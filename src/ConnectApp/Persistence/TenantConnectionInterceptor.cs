using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ConnectApp.Persistence;

/// <summary>
/// Sets <c>app.tenant_id</c> on every connection EF opens, to the opening context's tenant (<see cref="AppDbContext.Tenant"/>)
/// or to '' (no tenant, or a context that is not ours), so a pooled connection never carries another request's tenant.
/// One instance for the process: it holds no state, so the context options are built once rather than per request.
/// <para>Every connection also plans each statement for the site at hand: see the connection string (<see cref="DatabaseUrl"/>).</para>
/// </summary>
internal sealed class TenantConnectionInterceptor : DbConnectionInterceptor
{
    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = Command(connection, TenantOf(eventData));
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = Command(connection, TenantOf(eventData));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static Guid? TenantOf(ConnectionEventData eventData) => (eventData.Context as AppDbContext)?.Tenant.TenantId;

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
