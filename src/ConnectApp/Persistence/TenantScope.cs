namespace ConnectApp.Persistence;

/// <summary>
/// The tenant the current unit of work acts for. Every database connection of the scope sets
/// <c>app.tenant_id</c> from it (see <see cref="TenantConnectionInterceptor"/>), and row-level security
/// shows that tenant's rows only. No tenant set means no tenant-owned rows at all: it fails closed.
/// </summary>
internal sealed class TenantScope
{
    public Guid? TenantId { get; private set; }

    public void Enter(Guid tenantId)
    {
        if (TenantId is { } current && current != tenantId)
        {
            throw new InvalidOperationException("This scope already acts for another tenant.");
        }

        TenantId = tenantId;
    }
}
