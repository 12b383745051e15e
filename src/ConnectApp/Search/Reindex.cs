using ConnectApp.Api;
using ConnectApp.Licensing;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Records;
using ConnectApp.Roles;
using ConnectApp.Tenants;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Search;

internal enum ReindexStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// <summary>
/// One rebuild of a tenant's search documents from PostgreSQL, and how far it got. <see cref="LastRecordId"/> is the
/// checkpoint (records are read in id order), so a run resumed after a crash goes on from there.
/// </summary>
internal sealed class SearchReindexRun
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public ReindexStatus Status { get; set; }

    public long Total { get; set; }

    public long Done { get; set; }

    public Guid? LastRecordId { get; set; }

    public string? Error { get; set; }

    public required string RequestedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class SearchReindexRunConfiguration : IEntityTypeConfiguration<SearchReindexRun>
{
    public void Configure(EntityTypeBuilder<SearchReindexRun> builder)
    {
        builder.ToTable("search_reindex_runs");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Error).HasMaxLength(500);
        builder.Property(r => r.RequestedBy).HasMaxLength(160);
        builder.HasIndex(r => new { r.TenantId, r.CreatedAt });
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>
/// Rebuilds a tenant's documents from PostgreSQL in id-ordered batches while search keeps answering (documents are
/// upserted in place, version-guarded, so the mirror and a reindex can run at the same time). At the end, the
/// tenant's mirror messages written before the run started count as applied: the run read their changes.
/// </summary>
internal sealed class SearchReindexer(AppDbContext db, ISearchIndex index, TimeProvider time, ILogger<SearchReindexer> logger)
{
    public const int BatchSize = 2000;

    /// <summary>Records per statement when PostgreSQL builds the documents itself (the PostgreSQL engine).</summary>
    public const int SqlBatchSize = 5000;

    public async Task RunAsync(Guid runId, Action<SearchReindexRun>? progress, CancellationToken cancellationToken)
    {
        var run = await db.Set<SearchReindexRun>().SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is null || run.Status is ReindexStatus.Succeeded or ReindexStatus.Failed)
        {
            return;
        }

        var now = time.GetUtcNow();
        run.Status = ReindexStatus.Running;
        run.StartedAt ??= now;
        run.UpdatedAt = now;
        run.Total = await db.Set<Record>().LongCountAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await index.EnsureCreatedAsync(cancellationToken);

        while (true)
        {
            var after = run.LastRecordId ?? Guid.Empty;
            var (count, last) = index is PostgresSearchIndex postgres
                ? await postgres.ReindexBatchAsync(run.TenantId, after, SqlBatchSize, cancellationToken) // PostgreSQL builds and upserts the documents itself: no round trip of the rows
                : await IndexBatchAsync(run.TenantId, after, cancellationToken);
            if (count == 0)
            {
                break;
            }

            run.Done += count;
            run.Total = Math.Max(run.Total, run.Done);
            run.LastRecordId = last;
            run.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
            progress?.Invoke(run);
        }

        await db.Database.ExecuteSqlAsync(
            $"UPDATE outbox_messages SET applied_at = clock_timestamp() WHERE tenant_id = {run.TenantId} AND applied_at IS NULL AND type = {RecordChanged.Type} AND created_at < {run.StartedAt}",
            cancellationToken);
        run.Status = ReindexStatus.Succeeded;
        run.FinishedAt = run.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        progress?.Invoke(run);
        logger.LogInformation("Reindex {RunId} of tenant {TenantId}: {Done} records", run.Id, run.TenantId, run.Done);
    }

    /// <summary>The next batch of records after <paramref name="after"/>, read here and written to the index (another engine than PostgreSQL).</summary>
    private async Task<(int Count, Guid? LastId)> IndexBatchAsync(Guid tenantId, Guid after, CancellationToken cancellationToken)
    {
        var batch = await db.Set<Record>().AsNoTracking().Where(r => r.Id.CompareTo(after) > 0).OrderBy(r => r.Id).Take(BatchSize).ToListAsync(cancellationToken);
        if (batch.Count == 0)
        {
            return (0, null);
        }

        await index.UpsertAsync(tenantId, await SearchDocuments.BuildAsync(db, batch.Where(r => r.RemovedAt is null).ToList(), cancellationToken), cancellationToken);
        foreach (var removed in batch.Where(r => r.RemovedAt is not null))
        {
            await index.DeleteAsync(tenantId, removed.Id, cancellationToken); // gone from JSM: not searchable (as the mirror does)
        }

        return (batch.Count, batch[^1].Id);
    }

    public async Task FailAsync(Guid runId, string error, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        if (await db.Set<SearchReindexRun>().SingleOrDefaultAsync(r => r.Id == runId, cancellationToken) is { Status: not (ReindexStatus.Succeeded or ReindexStatus.Failed) } run)
        {
            run.Status = ReindexStatus.Failed;
            run.Error = error.Length <= 500 ? error : error[..497] + "...";
            run.FinishedAt = run.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>A new run for the scope's tenant, queued through the outbox (saved by the caller).</summary>
    public SearchReindexRun Queue(Guid tenantId, string requestedBy)
    {
        var now = time.GetUtcNow();
        var run = new SearchReindexRun { Id = Guid.NewGuid(), TenantId = tenantId, Status = ReindexStatus.Queued, RequestedBy = requestedBy, CreatedAt = now, UpdatedAt = now };
        db.Set<SearchReindexRun>().Add(run);
        OutboxInterceptor.Add(db, new ReindexRequested(tenantId, run.Id));
        return run;
    }
}

/// <summary><c>reindex.requested.v1</c>: runs (or resumes) the reindex in the worker.</summary>
internal sealed class ReindexHandler(SearchReindexer reindexer, ILogger<ReindexHandler> logger) : IMessageHandler
{
    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        if (!Commands.TryRead<ReindexRequested>(body, context, m => m.RunId, out var message, out var refusal))
        {
            return refusal;
        }

        try
        {
            await reindexer.RunAsync(message.RunId, null, cancellationToken);
            return HandlerResult.Success;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            if (!context.LastAttempt)
            {
                logger.LogWarning(e, "Reindex {RunId} failed on attempt {Attempt}; it will be retried", message.RunId, context.Attempt);
                return HandlerResult.Retry(e.GetType().Name + ": " + e.Message);
            }

            await reindexer.FailAsync(message.RunId, $"{e.GetType().Name}: {e.Message}", cancellationToken);
            return HandlerResult.Reject("The reindex failed on every attempt: " + e.Message);
        }
    }
}

/// <summary>Site admins start a reindex of their site and watch its progress.</summary>
internal static class ReindexApi
{
    public sealed record ReindexView(Guid Id, ReindexStatus Status, long Total, long Done, double RatePerSecond, double? EtaSeconds,
        DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string? Error)
    {
        public static ReindexView From(SearchReindexRun r, DateTimeOffset now)
        {
            var elapsed = ((r.FinishedAt ?? now) - (r.StartedAt ?? now)).TotalSeconds;
            var rate = elapsed > 0 ? r.Done / elapsed : 0;
            double? eta = r.Status == ReindexStatus.Succeeded ? 0 : rate > 0 ? Math.Round(Math.Max(0, r.Total - r.Done) / rate, 1) : null;
            return new ReindexView(r.Id, r.Status, r.Total, r.Done, Math.Round(rate, 1), eta, r.CreatedAt, r.StartedAt, r.FinishedAt, r.Error);
        }
    }

    public static IEndpointRouteBuilder MapReindexEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/admin/search/reindex").WithTags("Directory search (admin)").RequireAuthorization(RolesFeature.Admin)
            .AllowUnlicensed(); // rebuilds the index from what is stored, changes no data
        group.MapPost("/", StartAsync).WithSummary("Rebuild this site's search index from PostgreSQL; search keeps answering meanwhile");
        group.MapGet("/{id:guid}", GetAsync).WithSummary("A reindex's progress: done, total, rate, ETA").Problems(CommonProblems.NotFound);
        return app;
    }

    private static async Task<Accepted<ReindexView>> StartAsync(Caller caller, AppDbContext db, SearchReindexer reindexer, TimeProvider time, CancellationToken ct)
    {
        var run = reindexer.Queue(caller.TenantId, caller.Actor);
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/api/admin/search/reindex/{run.Id}", ReindexView.From(run, time.GetUtcNow()));
    }

    private static async Task<Ok<ReindexView>> GetAsync(Guid id, AppDbContext db, TimeProvider time, CancellationToken ct)
    {
        var run = await db.Set<SearchReindexRun>().AsNoTracking().SingleOrDefaultAsync(r => r.Id == id, ct) ?? throw AppProblem.NotFound("The reindex");
        return TypedResults.Ok(ReindexView.From(run, time.GetUtcNow()));
    }
}

/// <summary>
/// The <c>reindex</c> command-line role for operators: <c>ConnectApp reindex [all | &lt;tenant id&gt; | &lt;clientKey&gt;]</c>.
/// Runs in this process (no broker needed), one tenant after another, printing progress; search keeps answering.
/// </summary>
internal static class ReindexCommand
{
    public static async Task<int> RunAsync(IServiceProvider services, string target, CancellationToken cancellationToken)
    {
        List<(Guid Id, string ClientKey)> tenants;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var query = db.Set<Tenant>().AsNoTracking();
            if (target != "all")
            {
                // Jira Cloud clientKeys are UUIDs too, so a UUID may name either.
                query = Guid.TryParse(target, out var id) ? query.Where(t => t.Id == id || t.ClientKey == target) : query.Where(t => t.ClientKey == target);
            }

            tenants = (await query.OrderBy(t => t.Id).Select(t => new { t.Id, t.ClientKey }).ToListAsync(cancellationToken)).Select(t => (t.Id, t.ClientKey)).ToList();
        }

        if (tenants.Count == 0)
        {
            Console.Error.WriteLine($"ConnectApp reindex: no tenant matches '{target}'");
            return 1;
        }

        foreach (var (tenantId, clientKey) in tenants)
        {
            await using var scope = services.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(tenantId);
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var reindexer = scope.ServiceProvider.GetRequiredService<SearchReindexer>();
            var time = scope.ServiceProvider.GetRequiredService<TimeProvider>();
            var run = new SearchReindexRun
            {
                Id = Guid.NewGuid(),
                TenantId = tenantId,
                Status = ReindexStatus.Queued,
                RequestedBy = "command-line",
                CreatedAt = time.GetUtcNow(),
                UpdatedAt = time.GetUtcNow(),
            };
            db.Set<SearchReindexRun>().Add(run);
            await db.SaveChangesAsync(cancellationToken);
            await reindexer.RunAsync(run.Id, r =>
            {
                var view = ReindexApi.ReindexView.From(r, time.GetUtcNow());
                Console.WriteLine($"reindex {clientKey}: {view.Done}/{view.Total} records, {view.RatePerSecond:0}/s, ETA {view.EtaSeconds?.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) ?? "?"} s, {view.Status.ToString().ToLowerInvariant()}");
            }, cancellationToken);
        }

        return 0;
    }
}
