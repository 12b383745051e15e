using ConnectApp.Hosting;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Tenants;

namespace ConnectApp.Sync;

/// <summary>
/// The JSM directory sync: organizations, customers (names, emails) and memberships from the tenant's JSM, on install
/// on an admin's request and on a schedule (SYNC_INTERVAL_MINUTES; the job lives in Retention/RetentionSchedule.cs), run by the worker from a <c>sync.requested.v1</c> message; progress endpoints.
/// </summary>
internal static class SyncFeature
{
    public static IServiceCollection AddSync(this IServiceCollection services, IConfiguration configuration) =>
        services
            .AddValidatedOptions<SyncOptions, SyncOptionsValidator>(o => o.IntervalMinutesText = configuration["SYNC_INTERVAL_MINUTES"]).Services
            .AddScoped<DirectorySyncer>()
            .AddScoped<ITenantLifecycleObserver, SyncOnInstall>()
            .AddKeyedScoped<IMessageHandler, SyncHandler>(SyncRequested.Type);

    public static IEndpointRouteBuilder MapSyncEndpoints(this IEndpointRouteBuilder api) => SyncApi.Map(api);
}
