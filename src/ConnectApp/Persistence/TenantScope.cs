using System.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace ConnectApp.Persistence;

/// <summary>
/// The tenant the current unit of work acts for. Every database connection of the scope sets
/// <c>app.tenant_id</c> from it (see <see cref="TenantConnectionInterceptor"/>), and row-level security
/// shows that tenant's rows only. No tenant set means no tenant-owned rows at all: it fails closed.
/// </summary>
internal sealed class TenantScope
{
    public Guid? TenantId { get; private set; }

    /// <summary>
    /// Acts for <paramref name="tenantId"/> from now on, including on <paramref name="db"/>'s connection if it is
    /// already open (inside a transaction begun before the tenant was known); later connections get it on open.
    /// </summary>
    public async Task EnterAsync(Guid tenantId, DbContext db, CancellationToken cancellationToken)
    {
        Enter(tenantId);
        var connection = db.Database.GetDbConnection();
        if (connection.State == ConnectionState.Open)
        {
            await using var command = TenantConnectionInterceptor.Command(connection, tenantId);
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    public void Enter(Guid tenantId)
    {
        if (TenantId is { } current && current != tenantId)
        {
            throw new InvalidOperationException("This scope already acts for another tenant.");
        }

        TenantId = tenantId;
    }
}
