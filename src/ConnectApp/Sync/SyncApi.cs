using ConnectApp.Api;
using ConnectApp.Problems;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Sync;

/// <summary>Site admins start a full directory sync and watch its progress.</summary>
internal static class SyncApi
{
    public const int RecentRuns = 20;

    public sealed record SyncRunView(
        Guid Id, SyncStatus Status, SyncPhase Phase, string Trigger, long Fetched, long? Total, long Done, double RatePerSecond, double? EtaSeconds,
        int Created, int Updated, int Removed, int Restored, int Errors, string? Error,
        DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt)
    {
        public static SyncRunView From(DirectorySyncRun r, DateTimeOffset now)
        {
            var elapsed = ((r.FinishedAt ?? now) - (r.WritingAt ?? now)).TotalSeconds;
            var rate = r.WritingAt is not null && elapsed > 0 ? r.Done / elapsed : 0;
            double? eta = r.Status == SyncStatus.Succeeded ? 0 : rate > 0 && r.Total is { } total ? Math.Round(Math.Max(0, total - r.Done) / rate, 1) : null;
            return new SyncRunView(
                r.Id, r.Status, r.Phase, r.Trigger, r.Fetched, r.Total, r.Done, Math.Round(rate, 1), eta,
                r.Created, r.Updated, r.Removed, r.Restored, r.Errors, r.Error, r.CreatedAt, r.StartedAt, r.FinishedAt);
        }
    }

    public static IEndpointRouteBuilder Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/sync").WithTags("JSM directory sync (admin)").RequireAuthorization(RolesFeature.Admin);
        group.MapPost("/", StartAsync)
            .WithSummary("Sync this site's organizations, customers and memberships from JSM now (a run already queued or running is answered instead)");
        group.MapGet("/", ListAsync).WithSummary("The latest directory syncs, newest first, with their progress");
        group.MapGet("/{id:guid}", GetAsync).WithSummary("A directory sync's progress: phase, done / total, rate, ETA, errors").Problems(CommonProblems.NotFound);
        return app;
    }

    private static async Task<Accepted<SyncRunView>> StartAsync(Caller caller, ConnectApp.Persistence.AppDbContext db, DirectorySyncer syncer, TimeProvider time, CancellationToken ct)
    {
        var active = await syncer.ActiveAsync(ct);
        if (active is null)
        {
            active = syncer.Queue(caller.TenantId, "admin", caller.Actor);
            await db.SaveChangesAsync(ct);
        }

        return TypedResults.Accepted($"/api/admin/sync/{active.Id}", SyncRunView.From(active, time.GetUtcNow()));
    }

    private static async Task<Ok<List<SyncRunView>>> ListAsync(ConnectApp.Persistence.AppDbContext db, TimeProvider time, CancellationToken ct)
    {
        var runs = await db.Set<DirectorySyncRun>().AsNoTracking().OrderByDescending(r => r.CreatedAt).Take(RecentRuns).ToListAsync(ct);
        var now = time.GetUtcNow();
        return TypedResults.Ok(runs.Select(r => SyncRunView.From(r, now)).ToList());
    }

    private static async Task<Ok<SyncRunView>> GetAsync(Guid id, ConnectApp.Persistence.AppDbContext db, TimeProvider time, CancellationToken ct)
    {
        var run = await db.Set<DirectorySyncRun>().AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, ct) ?? throw AppProblem.NotFound("The sync");
        return TypedResults.Ok(SyncRunView.From(run, time.GetUtcNow()));
    }
}
