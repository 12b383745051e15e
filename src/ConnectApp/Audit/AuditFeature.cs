namespace ConnectApp.Audit;

/// <summary>The audit log: every change's row joins the change's transaction (<see cref="AuditLog"/>); history reads it back.</summary>
internal static class AuditFeature
{
    public static IServiceCollection AddAudit(this IServiceCollection services) => services.AddScoped<AuditLog>();
}
