using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace ConnectApp.Retention;

/// <summary>
/// Every Quartz job and trigger of the app, declared here and nowhere else. Quartz only decides <em>when</em>: its
/// jobs write a <c>purge.requested.v1</c> through the outbox and the worker's consumer does the work. Misfired
/// triggers (no scheduler was running when they fell due) fire as soon as one is: <em>fire now</em>.
/// </summary>
internal static class RetentionSchedule
{
    public const string Group = "retention";

    /// <summary>Trigger group of the per-tenant purge triggers (one per uninstalled tenant, at uninstall + RETENTION_DAYS).</summary>
    public const string TenantTriggerGroup = "tenant-purge";

    public const string TenantIdKey = "tenantId";

    public static readonly JobKey TenantPurgeJobKey = new("tenant-purge", Group);

    public static readonly JobKey SweepJobKey = new("retention-sweep", Group);

    public static readonly TriggerKey SweepTriggerKey = new("retention-sweep-daily", Group);

    /// <summary>Daily at 03:17 UTC (off the hour, away from everyone else's cron).</summary>
    public const string SweepCron = "0 17 3 * * ?";

    public static readonly JobKey AccountsReportJobKey = new("accounts-report", Group);

    public static readonly TriggerKey AccountsReportTriggerKey = new("accounts-report-daily", Group);

    /// <summary>Daily at 02:43 UTC: requests the personal data report of every installed tenant whose cycle is up.</summary>
    public const string AccountsReportCron = "0 43 2 * * ?";

    public static readonly JobKey DirectorySyncJobKey = new("directory-sync", Group);

    public static readonly TriggerKey DirectorySyncTriggerKey = new("directory-sync-every-5-minutes", Group);

    /// <summary>
    /// Every 5 minutes (at 2, 7, 12, ... past the hour): queues the scheduled (incremental) sync of every installed
    /// site whose latest sync began SYNC_INTERVAL_MINUTES ago or more. One cluster-wide trigger rather than one per
    /// tenant: nothing to add or remove on install and uninstall, and each site keeps its own rhythm from its install.
    /// </summary>
    public const string DirectorySyncCron = "0 2/5 * * * ?";

    public static TriggerKey PurgeTriggerKey(Guid tenantId) => new("purge-" + tenantId.ToString("N"), TenantTriggerGroup);

    public static void Declare(IQuartzBuilder quartz)
    {
        quartz.AddJob<TenantPurgeJob>(j => j.WithIdentity(TenantPurgeJobKey).StoreDurably().WithDescription("Requests the purge of the tenant its trigger names"));
        quartz.AddJob<RetentionSweepJob>(j => j.WithIdentity(SweepJobKey).StoreDurably().WithDescription("Daily: overdue uninstalled tenants without a trigger, inactive tenants"));
        quartz.AddTrigger<RetentionSweepJob>(t => t
            .WithIdentity(SweepTriggerKey)
            .ForJob(SweepJobKey)
            .WithCronSchedule(SweepCron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));
        quartz.AddJob<AccountsReportJob>(j => j.WithIdentity(AccountsReportJobKey).StoreDurably().WithDescription("Daily: personal data reports of the tenants whose reporting cycle is up"));
        quartz.AddTrigger<AccountsReportJob>(t => t
            .WithIdentity(AccountsReportTriggerKey)
            .ForJob(AccountsReportJobKey)
            .WithCronSchedule(AccountsReportCron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));
        quartz.AddJob<DirectorySyncJob>(j => j.WithIdentity(DirectorySyncJobKey).StoreDurably().WithDescription("Every 5 minutes: queues the scheduled JSM directory sync of the sites that are due"));
        quartz.AddTrigger<DirectorySyncJob>(t => t
            .WithIdentity(DirectorySyncTriggerKey)
            .ForJob(DirectorySyncJobKey)
            .WithCronSchedule(DirectorySyncCron, c => c.InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));
    }

    /// <summary>The purge trigger of a tenant, due at <paramref name="due"/>; it fires once, at once if that time has passed.</summary>
    public static ITrigger PurgeTrigger(Guid tenantId, DateTimeOffset due) => TriggerBuilder.Create()
        .WithIdentity(PurgeTriggerKey(tenantId))
        .ForJob(TenantPurgeJobKey)
        .UsingJobData(TenantIdKey, tenantId.ToString())
        .StartAt(due)
        .WithSimpleSchedule(s => s.WithRepeatCount(0).WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
        .Build();

    /// <summary>Adds or moves the tenant's purge trigger to <paramref name="due"/>.</summary>
    public static async Task ScheduleAsync(IScheduler scheduler, Guid tenantId, DateTimeOffset due, CancellationToken cancellationToken)
    {
        var trigger = PurgeTrigger(tenantId, due);
        if (await scheduler.GetTrigger(trigger.Key, cancellationToken) is { } existing)
        {
            if (existing.StartTimeUtc != due)
            {
                await scheduler.RescheduleJob(trigger.Key, trigger, cancellationToken);
            }

            return;
        }

        try
        {
            await scheduler.ScheduleJob(trigger, cancellationToken: cancellationToken);
        }
        catch (ObjectAlreadyExistsException)
        {
            await scheduler.RescheduleJob(trigger.Key, trigger, cancellationToken); // another worker added it meanwhile
        }
    }
}

/// <summary>The base of every job: logs a failure with the job's name (Quartz would only tell its listeners) and reports it to Quartz.</summary>
internal abstract class RetentionJob(ILogger logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync(context, cancellationToken);
        }
        catch (Exception e) when (e is not JobExecutionException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(e, "Job {Job} (trigger {Trigger}) failed", context.JobDetail.Key, context.Trigger.Key);
            throw new JobExecutionException(e);
        }
    }

    protected abstract Task RunAsync(IJobExecutionContext context, CancellationToken cancellationToken);
}

/// <summary>A tenant's retention time is up: request its purge (the consumer checks again that it is still due).</summary>
internal sealed class TenantPurgeJob(PurgeRequests requests, ILogger<TenantPurgeJob> logger) : RetentionJob(logger)
{
    protected override async Task RunAsync(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(context.MergedJobDataMap.GetString(RetentionSchedule.TenantIdKey), out var tenantId))
        {
            logger.LogError("Purge trigger {Trigger} names no tenant", context.Trigger.Key);
            return;
        }

        if (await requests.RequestAsync(tenantId, PurgeReason.Retention, cancellationToken) is null)
        {
            logger.LogInformation("Purge trigger of tenant {TenantId} fired, but the tenant is gone or no longer due", tenantId);
        }
    }
}

/// <summary>
/// Daily, belt and braces: purges uninstalled tenants past their date that have no trigger (a lost schedule message,
/// a restored database), adds missing triggers of uninstalled tenants not yet due, and purges tenants inactive for
/// INACTIVITY_DAYS when that is set.
/// </summary>
internal sealed class RetentionSweepJob(AppDbContext db, PurgeRequests requests, IOptions<RetentionOptions> options, TimeProvider time, ILogger<RetentionSweepJob> logger)
    : RetentionJob(logger)
{
    protected override async Task RunAsync(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var scheduler = context.Scheduler;
        var open = db.Set<TenantPurge>().Where(p => p.State == PurgeState.Requested || p.State == PurgeState.Running).Select(p => p.PurgedTenantId);
        var uninstalled = await db.Set<Tenant>().AsNoTracking()
            .Where(t => t.UninstalledAt != null && !open.Contains(t.Id))
            .Select(t => new { t.Id, t.UninstalledAt })
            .ToListAsync(cancellationToken);
        int requested = 0, scheduled = 0, inactive = 0;
        foreach (var tenant in uninstalled)
        {
            if (await scheduler.Exists(RetentionSchedule.PurgeTriggerKey(tenant.Id), cancellationToken))
            {
                continue; // its trigger fires (at once, if overdue: misfire → fire now)
            }

            var due = tenant.UninstalledAt!.Value + options.Value.Retention;
            if (due <= now)
            {
                requested += await requests.RequestAsync(tenant.Id, PurgeReason.Retention, cancellationToken) is null ? 0 : 1;
            }
            else
            {
                await RetentionSchedule.ScheduleAsync(scheduler, tenant.Id, due, cancellationToken);
                scheduled++;
            }
        }

        if (options.Value.Inactivity is { } inactivity)
        {
            var cutoff = now - inactivity;
            var idle = await db.Set<Tenant>().AsNoTracking()
                .Where(t => t.UninstalledAt == null && t.UpdatedAt <= cutoff && (t.LastSeenAt == null || t.LastSeenAt <= cutoff) && !open.Contains(t.Id))
                .Select(t => t.Id)
                .ToListAsync(cancellationToken);
            foreach (var id in idle)
            {
                inactive += await requests.RequestAsync(id, PurgeReason.Inactivity, cancellationToken) is null ? 0 : 1;
            }
        }

        logger.LogInformation("Retention sweep: {Requested} overdue purge(s) requested, {Scheduled} missing trigger(s) added, {Inactive} inactivity purge(s) requested",
            requested, scheduled, inactive);
    }
}

/// <summary>
/// <c>purge.schedule.v1</c>: makes the tenant's purge trigger match its state. Uninstalled → a trigger at uninstall +
/// RETENTION_DAYS; installed (a reinstall) or gone → no trigger. Reads the current state, so it is idempotent.
/// </summary>
internal sealed class PurgeScheduleHandler(AppDbContext db, ISchedulerFactory schedulers, IOptions<RetentionOptions> options, ILogger<PurgeScheduleHandler> logger) : IMessageHandler
{
    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        PurgeScheduleChanged? message;
        try
        {
            message = Contracts.Deserialize<PurgeScheduleChanged>(body.Span);
        }
        catch (System.Text.Json.JsonException e)
        {
            return HandlerResult.Reject("Unreadable purge.schedule.v1: " + e.Message);
        }

        if (message is null || message.TenantId == Guid.Empty)
        {
            return HandlerResult.Reject("purge.schedule.v1 without a tenant.");
        }

        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var tenant = await db.Set<Tenant>().AsNoTracking().Where(t => t.Id == message.TenantId).Select(t => new { t.UninstalledAt }).SingleOrDefaultAsync(cancellationToken);
        if (tenant?.UninstalledAt is { } uninstalledAt)
        {
            var due = uninstalledAt + options.Value.Retention;
            await RetentionSchedule.ScheduleAsync(scheduler, message.TenantId, due, cancellationToken);
            logger.LogInformation("Purge of tenant {TenantId} scheduled for {DueAt:o}", message.TenantId, due);
        }
        else if (await scheduler.UnscheduleJob(RetentionSchedule.PurgeTriggerKey(message.TenantId), cancellationToken))
        {
            logger.LogInformation("Purge of tenant {TenantId} cancelled: reinstalled", message.TenantId);
        }

        return HandlerResult.Success;
    }
}

/// <summary>Puts a <c>purge.schedule.v1</c> in the lifecycle callback's transaction on every install and uninstall.</summary>
internal sealed class RetentionLifecycleObserver(AppDbContext db) : ITenantLifecycleObserver
{
    public Task ChangedAsync(Guid tenantId, string eventType, CancellationToken cancellationToken)
    {
        if (eventType is "installed" or "uninstalled")
        {
            OutboxInterceptor.Add(db, new PurgeScheduleChanged(tenantId));
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// Daily: a <c>personal-data.report.v1</c> through the outbox for every installed tenant never reported, or whose
/// reporting cycle (Atlassian's <c>Cycle-Period</c>, else 7 days) is up; the worker's consumer does the reporting.
/// </summary>
internal sealed class AccountsReportJob(AppDbContext db, TimeProvider time, ILogger<AccountsReportJob> logger) : RetentionJob(logger)
{
    protected override async Task RunAsync(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var tenants = await db.Set<Tenant>().AsNoTracking().Where(t => t.UninstalledAt == null)
            .Select(t => new { t.Id, t.AccountsReportedAt, t.AccountsReportCycleSeconds }).ToListAsync(cancellationToken);
        var due = tenants.Where(t => t.AccountsReportedAt is not { } reported
            || reported + (t.AccountsReportCycleSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : AccountReporter.DefaultCycle) <= now).ToList();
        foreach (var tenant in due)
        {
            OutboxInterceptor.Add(db, new AccountsReportRequested(tenant.Id));
        }

        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Personal data reports requested for {Count} tenant(s)", due.Count);
    }
}

/// <summary>
/// The scheduled (incremental) JSM directory sync. JSM has no "changed since" API, so it is a full read that writes only
/// what differs (an unchanged directory writes nothing). For each installed, enabled site, in that site's own scope
/// (row-level security): skipped when a sync is queued or running, or began less than SYNC_INTERVAL_MINUTES ago;
/// otherwise a run (trigger <c>schedule</c>) is queued through the outbox. Quartz runs the job on one node of the
/// cluster at a time; the run itself takes a per-site advisory lock, so two syncs of one site never run at once.
/// </summary>
[DisallowConcurrentExecution]
internal sealed class DirectorySyncJob(AppDbContext db, IServiceScopeFactory scopes, IOptions<Sync.SyncOptions> options, TimeProvider time, ILogger<DirectorySyncJob> logger) : RetentionJob(logger)
{
    protected override async Task RunAsync(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        if (options.Value.Interval is not { } interval)
        {
            return; // SYNC_INTERVAL_MINUTES=0: no scheduled syncs
        }

        var sites = await db.Set<Tenant>().AsNoTracking().Where(t => t.UninstalledAt == null && t.Enabled).Select(t => t.Id).ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        int queued = 0, running = 0;
        foreach (var tenantId in sites)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(tenantId);
            var tenantDb = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var syncer = scope.ServiceProvider.GetRequiredService<Sync.DirectorySyncer>();
            if (await syncer.ActiveAsync(cancellationToken) is not null)
            {
                running++;
                continue;
            }

            var latest = await tenantDb.Set<Sync.DirectorySyncRun>().AsNoTracking().Where(r => r.Status != Sync.SyncStatus.Skipped)
                .OrderByDescending(r => r.CreatedAt).Select(r => (DateTimeOffset?)r.CreatedAt).FirstOrDefaultAsync(cancellationToken);
            if (latest is { } at && at + interval > now)
            {
                continue;
            }

            syncer.Queue(tenantId, "schedule", Api.Actors.JiraSync);
            await tenantDb.SaveChangesAsync(cancellationToken);
            queued++;
        }

        logger.LogInformation("Scheduled directory sync: {Queued} site(s) queued, {Running} skipped (a sync was queued or running)", queued, running);
    }
}
