using AtlassianConnect.Authentication;
using ConnectApp.Hosting;
using ConnectApp.Messaging;
using ConnectApp.Outbox;

namespace ConnectApp.Webhooks;

/// <summary>
/// Jira webhooks (the descriptor's <c>webhooks</c> modules): received, verified and recorded by the web role, acted on by
/// the worker from a <c>webhook.received.v1</c> message.
/// </summary>
internal static class WebhooksFeature
{
    public static IServiceCollection AddWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<WebhookOptions, WebhookOptionsValidator>(o => o.RetentionDaysText = configuration["WEBHOOK_RETENTION_DAYS"]);
        services.AddAuthorizationBuilder().AddPolicy(WebhooksApi.Policy, p => p
            .AddAuthenticationSchemes(ConnectJwtDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()); // a context token is refused by the scheme itself here (no AllowContextToken)
        services.AddKeyedScoped<IMessageHandler, WebhookHandler>(WebhookReceived.Type);
        return services;
    }

    public static IEndpointRouteBuilder MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        WebhooksApi.Map(app);
        return app;
    }
}
