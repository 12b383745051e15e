using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Tenants;

namespace ConnectApp.Jql;

/// <summary>
/// Customer and organization values in JQL: the searchable fields as typed aliases of an issue property (a dynamic
/// <c>jiraEntityProperties</c> module per site), and the property written on the issues of each customer.
/// </summary>
internal static class JqlFeature
{
    public static IServiceCollection AddJql(this IServiceCollection services) =>
        services
            .AddScoped<IssueStamper>()
            .AddScoped<JqlAliases>()
            .AddScoped<ITenantLifecycleObserver, JqlOnInstall>()
            .AddKeyedScoped<IMessageHandler, JqlStampHandler>(JqlStampRequested.Type)
            .AddKeyedScoped<IMessageHandler, JqlAliasesHandler>(JqlAliasesChanged.Type);
}
