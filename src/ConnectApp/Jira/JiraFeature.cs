namespace ConnectApp.Jira;

/// <summary>Calls to tenants' Jira sites, signed with the tenant's shared secret (Connect JWT).</summary>
internal static class JiraFeature
{
    public static IServiceCollection AddJira(this IServiceCollection services)
    {
        services.AddHttpClient<JiraClient>(JiraClient.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .AddHttpMessageHandler<AtlassianConnect.Outgoing.ConnectSigningHandler>();
        return services;
    }
}
