using ConnectApp.Hosting;
using ConnectApp.Messaging;

namespace ConnectApp.Outbox;

internal static class OutboxFeature
{
    /// <summary>The outbox (every role writes it through <see cref="OutboxInterceptor"/>); the relay and the queue listeners in the worker role.</summary>
    public static IServiceCollection AddOutbox(this IServiceCollection services, IConfiguration configuration, ProcessRole role)
    {
        services.AddOptions<OutboxOptions>().Configure(o =>
        {
            if (int.TryParse(configuration["OUTBOX_RETENTION_HOURS"], System.Globalization.CultureInfo.InvariantCulture, out var hours) && hours > 0)
            {
                o.Retention = TimeSpan.FromHours(hours);
            }
        });
        services.AddMemoryCache(); // the interceptor remembers briefly which sites have a field searchable in JQL
        services.AddSingleton<OutboxInterceptor>();
        services.AddSingleton<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor>(sp => sp.GetRequiredService<OutboxInterceptor>()); // Persistence adds every IInterceptor to the (singleton) context options
        if (role.RunsWorker())
        {
            services.AddHostedService<OutboxRelay>();
            foreach (var queue in Topology.Queues)
            {
                services.AddSingleton<IHostedService>(sp => ActivatorUtilities.CreateInstance<MessageListener>(sp, queue));
            }
        }

        return services;
    }
}
