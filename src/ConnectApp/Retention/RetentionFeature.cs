using System.Data.Common;
using ConnectApp.Hosting;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Tenants;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace ConnectApp.Retention;

/// <summary>
/// Data retention: the purge 90 days (RETENTION_DAYS) after uninstall, the inactivity purge (INACTIVITY_DAYS),
/// deletion on request. Quartz (clustered, ADO.NET store in PostgreSQL, tables made by the migrate role) runs in
/// the worker role and only decides when; the purge itself is a RabbitMQ command the worker consumes.
/// </summary>
internal static class RetentionFeature
{
    public static IServiceCollection AddRetention(this IServiceCollection services, IConfiguration configuration, ProcessRole role)
    {
        services.AddValidatedOptions<RetentionOptions, RetentionOptionsValidator>(o =>
        {
            o.RetentionDaysText = configuration["RETENTION_DAYS"];
            o.InactivityDaysText = configuration["INACTIVITY_DAYS"];
        });
        services.AddScoped<ITenantLifecycleObserver, RetentionLifecycleObserver>();
        services.AddScoped<PurgeRequests>();
        services.AddScoped<TenantPurger>();
        services.AddKeyedScoped<IMessageHandler, PurgeRequestedHandler>(PurgeRequested.Type);
        services.AddKeyedScoped<IMessageHandler, PurgeScheduleHandler>(PurgeScheduleChanged.Type);
        services.AddScoped<AccountReporter>();
        services.AddKeyedScoped<IMessageHandler, AccountsReportHandler>(AccountsReportRequested.Type);
        services.AddHealthChecks().AddCheck<RetentionHealthCheck>("retention", tags: [HealthTags.Ready], timeout: TimeSpan.FromSeconds(5));
        if (role.RunsWorker())
        {
            services.TryAddSingleton<DbDataSource>(sp => sp.GetRequiredService<NpgsqlDataSource>());
            services.AddQuartz(quartz =>
            {
                quartz.ConfigureScheduler(o =>
                {
                    o.InstanceName = "connectapp";
                    o.GenerateInstanceId = true; // every worker process is its own cluster node
                });
                quartz.UseDefaultThreadPool(2);
                quartz.UsePersistentStore(store =>
                {
                    store.UsePostgres(p => p.UseRegisteredDataSource = true); // the app's NpgsqlDataSource: DATABASE_URL, one pool
                    store.ConfigureStore(o =>
                    {
                        o.TablePrefix = "qrtz_"; // tables created by the migrate role (migration QuartzAndTenantPurges)
                        o.StoreJobDataAsStrings = true;
                        o.SchemaProvisioning = SchemaProvisioning.Validate;
                    });
                    store.UseClustering(c =>
                    {
                        c.CheckinInterval = TimeSpan.FromSeconds(10);
                        c.CheckinMisfireThreshold = TimeSpan.FromSeconds(20);
                    });
                });
                RetentionSchedule.Declare(quartz);
            });
            // Quartz reads the app's TimeProvider from the container (tests replace it with a fake clock); its idle wait
            // bounds how long a sleeping scheduler takes to notice that clock moved.
            services.AddOptions<QuartzSchedulerOptions>().Configure<IOptions<RetentionOptions>>((q, retention) => q.IdleWaitTime = retention.Value.SchedulerIdleWait);
            services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        }

        return services;
    }

    public static IEndpointRouteBuilder MapRetentionEndpoints(this IEndpointRouteBuilder api) => api.MapDataDeletionEndpoints();
}
