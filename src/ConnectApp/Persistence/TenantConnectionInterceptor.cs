using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ConnectApp.Persistence;

/// <summary>
/// Sets <c>app.tenant_id</c> on every connection EF opens, to the opening context's tenant (<see cref="AppDbContext.Tenant"/>)
/// or to '' (no tenant, or a context that is not ours), so a pooled connection never carries another request's tenant.
/// One instance for the process: it holds no state, so the context options are built once rather than per request.
/// <para>
/// In the same statement, <c>plan_cache_mode = force_custom_plan</c> for the session: EF's statements are prepared per
/// connection (max_auto_prepare), and a prepared statement's plan is otherwise PostgreSQL's call. After five runs it may
/// switch to a generic plan, made without the tenant's numbers (the tenant is a setting under row-level security). A
/// pooled connection serves every site, so a plan made while small sites ran is then used for a site with a million
/// customers. That happened to the directory list (<c>ORDER BY name LIMIT 51</c>): after the demo site's pages, the
/// large site's pages took 4.8 s each instead of 35 ms, because the generic plan sorted every customer
/// (bench 2026-11-24 23:23 and 23:32). Custom plans are made per run from the site's own numbers, and preparing still
/// saves the parse. The issue panel's own reader (<see cref="ConnectApp.Records.PanelReader"/>) plans generically on
/// purpose, transaction-locally, for one shape of query whose plan is the same for every site.
/// </para>
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
        command.CommandText = "SELECT set_config('app.tenant_id', @tenant, false), set_config('plan_cache_mode', 'force_custom_plan', false)";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "tenant";
        parameter.Value = tenantId?.ToString() ?? string.Empty;
        command.Parameters.Add(parameter);
        return command;
    }
}
