using ConnectApp.Hosting;

namespace ConnectApp.Messaging;

/// <summary>The RabbitMQ connection (<c>RABBITMQ_URL</c>, else <c>CLOUDAMQP_URL</c>) and its readiness check.</summary>
internal static class MessagingFeature
{
    public static IServiceCollection AddMessaging(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<RabbitMqOptions, RabbitMqOptionsValidator>(o => o.Url = configuration["RABBITMQ_URL"] is { Length: > 0 } url ? url
            : configuration["CLOUDAMQP_URL"] is { Length: > 0 } cloud ? cloud
            : RabbitMqOptions.LocalDefault);
        services.AddSingleton<RabbitMqConnection>();
        services.AddHealthChecks().AddCheck<RabbitMqHealthCheck>("rabbitmq", tags: [HealthTags.Ready], timeout: TimeSpan.FromSeconds(5));
        return services;
    }
}
