using ConnectApp.Hosting;

namespace ConnectApp.Jobs;

/// <summary>The durable job queue in PostgreSQL and, in worker roles, the worker that runs it (ADR 6).</summary>
internal static class JobsFeature
{
    public static IServiceCollection AddJobs(this IServiceCollection services, ProcessRole role)
    {
        services.AddSingleton<JobSignal>();
        services.AddSingleton<JobQueue>();
        if (role.RunsWorker())
        {
            services.AddHostedService<JobQueueWorker>();
        }

        return services;
    }
}
