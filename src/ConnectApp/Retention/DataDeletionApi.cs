using System.Security.Cryptography;
using System.Text.Json;
using ConnectApp.Api;
using ConnectApp.Licensing;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using ConnectApp.Tenants;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Retention;

/// <summary>
/// Deletion on request, in two steps: an admin asks (and gets a one-time token and a phrase naming the site), then
/// confirms with both within ten minutes; only then is the purge queued. The same purge as retention's runs, except
/// that the tenant row stays: the app remains installed, with no data.
/// </summary>
internal static class DataDeletionApi
{
    public static readonly TimeSpan ConfirmWithin = TimeSpan.FromMinutes(10);

    public sealed record DeletionRequested(Guid Id, string ConfirmationToken, string ConfirmationPhrase, DateTimeOffset ExpiresAt);

    public sealed record ConfirmDeletionRequest(string? ConfirmationToken, string? ConfirmationPhrase);

    public sealed record DeletionView(Guid Id, string State, DateTimeOffset RequestedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, IReadOnlyDictionary<string, long> RowCounts)
    {
        public static DeletionView From(TenantPurge p) => new(p.Id, p.State.ToString(), p.RequestedAt, p.StartedAt, p.FinishedAt,
            JsonSerializer.Deserialize<Dictionary<string, long>>(p.RowCounts) ?? []);
    }

    public static IEndpointRouteBuilder MapDataDeletionEndpoints(this IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/admin/data-deletion").WithTags("Data deletion (admin)").RequireAuthorization(RolesFeature.Admin)
            .AllowUnlicensed(); // a site whose license lapsed may still have its data deleted
        group.MapPost("/", RequestAsync)
            .WithSummary("Step 1 of deleting all of this site's app data: returns a one-time confirmation token and the phrase to type")
            .Problems(RetentionProblems.InProgress);
        group.MapPost("/confirm", ConfirmAsync)
            .WithSummary("Step 2: confirm with the token and the phrase; every record, value, audit entry, token and search document of the site is deleted (the app stays installed)")
            .Problems(CommonProblems.ValidationFailed, RetentionProblems.ConfirmationInvalid, RetentionProblems.ConfirmationExpired, RetentionProblems.InProgress);
        group.MapGet("/{id:guid}", GetAsync).WithSummary("A deletion's progress: its state and rows deleted per table").Problems(CommonProblems.NotFound);
        return api;
    }

    private static async Task<Created<DeletionRequested>> RequestAsync(Caller caller, AppDbContext db, PurgeRequests requests, TimeProvider time, CancellationToken ct)
    {
        if (await requests.FindOpenAsync(caller.TenantId, ct) is not null)
        {
            throw RetentionProblems.InProgress.Problem("A deletion of this site's data is already queued or running.");
        }

        var tenant = await db.Set<Tenant>().AsNoTracking().SingleAsync(t => t.Id == caller.TenantId, ct);
        var now = time.GetUtcNow();
        var token = Base64Url(RandomNumberGenerator.GetBytes(24));
        var purge = PurgeRequests.New(tenant, PurgeReason.Request, now, now);
        purge.State = PurgeState.AwaitingConfirmation;
        purge.ConfirmationHash = TenantPurge.Hash(token);
        purge.ConfirmationExpiresAt = now + ConfirmWithin;
        db.Set<TenantPurge>().Add(purge);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/admin/data-deletion/{purge.Id}", new DeletionRequested(purge.Id, token, Phrase(tenant), purge.ConfirmationExpiresAt.Value));
    }

    private static async Task<Accepted<DeletionView>> ConfirmAsync(ConfirmDeletionRequest body, Caller caller, AppDbContext db, TimeProvider time, ILogger<PurgeRequests> logger, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(body.ConfirmationToken))
        {
            errors["confirmationToken"] = ["Required: the token step 1 returned."];
        }

        if (string.IsNullOrWhiteSpace(body.ConfirmationPhrase))
        {
            errors["confirmationPhrase"] = ["Required: the phrase step 1 returned, typed exactly."];
        }

        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors);
        }

        var hash = TenantPurge.Hash(body.ConfirmationToken!);
        var purge = await db.Set<TenantPurge>().SingleOrDefaultAsync(
            p => p.PurgedTenantId == caller.TenantId && p.ConfirmationHash == hash && p.State == PurgeState.AwaitingConfirmation, ct);
        var tenant = await db.Set<Tenant>().AsNoTracking().SingleAsync(t => t.Id == caller.TenantId, ct);
        if (purge is null || !string.Equals(body.ConfirmationPhrase!.Trim(), Phrase(tenant), StringComparison.Ordinal))
        {
            throw RetentionProblems.ConfirmationInvalid.Problem("The confirmation token or phrase does not match a pending deletion request of this site; nothing was deleted.");
        }

        var now = time.GetUtcNow();
        if (purge.ConfirmationExpiresAt <= now)
        {
            throw RetentionProblems.ConfirmationExpired.Problem("The confirmation expired; request the deletion again. Nothing was deleted.");
        }

        purge.State = PurgeState.Requested;
        purge.ConfirmationHash = null; // single use
        purge.DueAt = purge.RequestedAt = purge.UpdatedAt = now;
        OutboxInterceptor.Add(db, new PurgeRequested(caller.TenantId, purge.Id));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            throw RetentionProblems.InProgress.Problem("A deletion of this site's data is already queued or running.");
        }

        logger.LogInformation("Deletion on request {PurgeId} of tenant {ClientKeyHash} confirmed", purge.Id, purge.ClientKeyHash);
        return TypedResults.Accepted($"/api/admin/data-deletion/{purge.Id}", DeletionView.From(purge));
    }

    private static async Task<Ok<DeletionView>> GetAsync(Guid id, Caller caller, AppDbContext db, CancellationToken ct)
    {
        var purge = await db.Set<TenantPurge>().AsNoTracking().SingleOrDefaultAsync(p => p.Id == id && p.PurgedTenantId == caller.TenantId, ct)
            ?? throw AppProblem.NotFound("The deletion");
        return TypedResults.Ok(DeletionView.From(purge));
    }

    /// <summary>What the admin types to confirm: names the site, so a deletion meant for another site cannot be confirmed here.</summary>
    public static string Phrase(Tenant tenant) => "delete all data of " + new Uri(tenant.BaseUrl).Host;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
