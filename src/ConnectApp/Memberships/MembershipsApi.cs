using System.Globalization;
using System.Text;
using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Records;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Memberships;

/// <summary>
/// Agents add and remove customers to/from organizations (one at a time, or in bulk); each change is written back to
/// JSM by the worker. Admins see how each write-back went (per change, per organization) and retry the failed ones.
/// </summary>
internal static class MembershipsApi
{
    public const int MaxBulkPairs = 1000;

    public const int DefaultPageSize = 50;

    public const int MaxPageSize = 500;

    /// <summary>
    /// A write-back's state as the API shows it; <c>actor</c> is who made the change (an agent's accountId, whom it is
    /// written back as; <c>token:{id}</c> or <c>system:{name}</c>, written back as the app).
    /// </summary>
    public sealed record WriteBackView(
        Guid Id, string Operation, WriteBackState State, int Attempts, string? Reason,
        Guid CustomerId, string? AccountId, string? CustomerName, Guid OrganizationId, string? OrganizationJsmId, string? OrganizationName,
        Guid? RuleId, string? Actor, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? CompletedAt)
    {
        public static WriteBackView From(MembershipChange c, Record? customer, Record? organization) => new(
            c.Id, c.Operation == MembershipOperation.Add ? "add" : "remove", c.State, c.Attempts, c.Reason,
            c.CustomerId, customer?.ExternalId, customer?.Name, c.OrganizationId, organization?.ExternalId, organization?.Name,
            c.RuleId, c.Actor, c.CreatedAt, c.UpdatedAt, c.CompletedAt);
    }

    /// <summary>
    /// What a membership edit did: <c>changed</c> false when it already was so; <c>writeBack</c> is the change's
    /// write-back (pending, or not-in-jsm when either record was never in JSM), null when nothing changed.
    /// </summary>
    public sealed record MembershipResult(Guid CustomerId, Guid OrganizationId, string Operation, bool Changed, WriteBackView? WriteBack);

    public sealed record MembershipPair(Guid CustomerId, Guid OrganizationId);

    /// <summary>At most 1,000 pairs in all; a pair in both lists is refused.</summary>
    public sealed record BulkMembershipRequest(IReadOnlyList<MembershipPair>? Add, IReadOnlyList<MembershipPair>? Remove);

    public sealed record BulkMembershipResult(int Added, int Removed, int Unchanged, IReadOnlyList<MembershipResult> Results);

    public sealed record OrganizationWriteBack(Guid OrganizationId, string? JsmId, string? Name, int Pending, int Failed, int Done, int NotInJsm, int Superseded, int FromJsm);

    /// <summary>Retries failed write-backs: the ones named, else every failed one of the organization, else every failed one of the site.</summary>
    public sealed record RetryRequest(IReadOnlyList<Guid>? ChangeIds, Guid? OrganizationId);

    public sealed record RetryResult(int Retried);

    public static void Map(IEndpointRouteBuilder api)
    {
        var members = api.MapGroup("/organizations/{organizationId:guid}/members").WithTags("Memberships").RequireAuthorization(RolesFeature.Agent);
        members.MapPut("/{customerId:guid}", (Guid organizationId, Guid customerId, Caller caller, AppDbContext db, MembershipEditor editor, CancellationToken ct) =>
                ChangeAsync(organizationId, customerId, MembershipOperation.Add, caller, db, editor, ct))
            .WithSummary("Add a customer to an organization (written back to JSM; a no-op when already a member)")
            .Problems(CommonProblems.NotFound, MembershipProblems.RecordRemoved, MembershipProblems.Conflict);
        members.MapDelete("/{customerId:guid}", (Guid organizationId, Guid customerId, Caller caller, AppDbContext db, MembershipEditor editor, CancellationToken ct) =>
                ChangeAsync(organizationId, customerId, MembershipOperation.Remove, caller, db, editor, ct))
            .WithSummary("Remove a customer from an organization (written back to JSM; a no-op when not a member)")
            .Problems(CommonProblems.NotFound, MembershipProblems.Conflict);

        api.MapPost("/bulk/memberships", BulkAsync).WithTags("Memberships").RequireAuthorization(RolesFeature.Agent)
            .WithSummary("Add and remove up to 1,000 memberships at once: validated as a whole, applied all or nothing, each written back to JSM")
            .Problems(CommonProblems.ValidationFailed, MembershipProblems.BulkSize, RecordProblems.BulkRecordsNotFound, MembershipProblems.RecordRemoved, MembershipProblems.Conflict);

        var admin = api.MapGroup("/admin/writeback").WithTags("Membership write-back (admin)").RequireAuthorization(RolesFeature.Admin);
        admin.MapGet("/", ListAsync)
            .WithSummary("Membership changes and how their write-back to JSM went, newest first; filter by state (pending, done, failed, not-in-jsm, superseded, from-jsm) and organization")
            .Problems(CommonProblems.BadRequest, ApiProblems.CursorMalformed);
        admin.MapGet("/organizations", ByOrganizationAsync)
            .WithSummary("Per organization: how many membership changes are pending, failed, done, not in JSM");
        admin.MapPost("/retry", RetryAsync)
            .WithSummary("Retry failed write-backs (the ones named, else the organization's, else all of the site's)");
    }

    private static async Task<Ok<MembershipResult>> ChangeAsync(Guid organizationId, Guid customerId, MembershipOperation operation, Caller caller, AppDbContext db, MembershipEditor editor, CancellationToken ct)
    {
        var organization = await db.Set<Record>().SingleOrDefaultAsync(r => r.Id == organizationId && r.Entity == RecordEntity.Organization, ct) ?? throw RecordProblems.NotFound(RecordEntity.Organization);
        var customer = await db.Set<Record>().SingleOrDefaultAsync(r => r.Id == customerId && r.Entity == RecordEntity.Customer, ct) ?? throw RecordProblems.NotFound(RecordEntity.Customer);
        if (operation == MembershipOperation.Add)
        {
            RefuseRemoved(customer, organization);
        }

        var change = await editor.ChangeAsync(caller, customer, organization, operation, null, ct);
        await SaveAsync(db, ct);
        return TypedResults.Ok(Result(customer, organization, operation, change));
    }

    private static async Task<Ok<BulkMembershipResult>> BulkAsync(BulkMembershipRequest body, Caller caller, AppDbContext db, MembershipEditor editor, CancellationToken ct)
    {
        var add = (body.Add ?? []).Distinct().ToList();
        var remove = (body.Remove ?? []).Distinct().ToList();
        if (add.Count + remove.Count is 0 or > MaxBulkPairs)
        {
            throw MembershipProblems.BulkSize.Problem($"A bulk membership edit takes 1 to {MaxBulkPairs} pairs (add and remove together).");
        }

        var both = add.Intersect(remove).ToList();
        if (both.Count > 0)
        {
            throw AppProblem.Validation(new Dictionary<string, string[]> { ["remove"] = [$"{both.Count} pair(s) are also in add; send each pair once"] });
        }

        var customerIds = add.Concat(remove).Select(p => p.CustomerId).Distinct().ToList();
        var organizationIds = add.Concat(remove).Select(p => p.OrganizationId).Distinct().ToList();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var customers = await db.Set<Record>().Where(r => customerIds.Contains(r.Id) && r.Entity == RecordEntity.Customer).ToDictionaryAsync(r => r.Id, ct);
        var organizations = await db.Set<Record>().Where(r => organizationIds.Contains(r.Id) && r.Entity == RecordEntity.Organization).ToDictionaryAsync(r => r.Id, ct);
        var missing = customerIds.Where(id => !customers.ContainsKey(id)).Concat(organizationIds.Where(id => !organizations.ContainsKey(id))).ToList();
        if (missing.Count > 0)
        {
            throw new AppProblem(RecordProblems.BulkRecordsNotFound, $"{missing.Count} of the customers and organizations do not exist; nothing was changed.") { Extra = new { missing = missing.Take(20).ToList() } };
        }

        foreach (var pair in add)
        {
            RefuseRemoved(customers[pair.CustomerId], organizations[pair.OrganizationId]);
        }

        var results = new List<MembershipResult>(add.Count + remove.Count);
        foreach (var (pairs, operation) in new[] { (add, MembershipOperation.Add), (remove, MembershipOperation.Remove) })
        {
            foreach (var pair in pairs)
            {
                var (customer, organization) = (customers[pair.CustomerId], organizations[pair.OrganizationId]);
                var change = await editor.ChangeAsync(caller, customer, organization, operation, null, ct);
                results.Add(Result(customer, organization, operation, change));
            }
        }

        await SaveAsync(db, ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(new BulkMembershipResult(
            results.Count(r => r.Changed && r.Operation == "add"), results.Count(r => r.Changed && r.Operation == "remove"), results.Count(r => !r.Changed), results));
    }

    private static async Task<Ok<Page<WriteBackView>>> ListAsync(AppDbContext db, string? state, Guid? organizationId, string? cursor, int? limit, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? DefaultPageSize, 1, MaxPageSize);
        var query = db.Set<MembershipChange>().AsNoTracking();
        if (!string.IsNullOrEmpty(state))
        {
            var wanted = ApiNames.Parse<WriteBackState>(state, "state");
            query = query.Where(c => c.State == wanted);
        }

        if (organizationId is { } org)
        {
            query = query.Where(c => c.OrganizationId == org);
        }

        if (cursor is not null)
        {
            var (at, id) = DecodeCursor(cursor);
            query = query.Where(c => c.CreatedAt < at || (c.CreatedAt == at && c.Id.CompareTo(id) < 0));
        }

        var rows = await query.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Take(size + 1).ToListAsync(ct);
        var ids = rows.Take(size).SelectMany(c => new[] { c.CustomerId, c.OrganizationId }).Distinct().ToList();
        var records = await db.Set<Record>().AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, ct);
        var page = rows.Take(size).Select(c => WriteBackView.From(c, records.GetValueOrDefault(c.CustomerId), records.GetValueOrDefault(c.OrganizationId))).ToList();
        var next = rows.Count > size ? EncodeCursor(rows[size - 1].CreatedAt, rows[size - 1].Id) : null;
        return TypedResults.Ok(new Page<WriteBackView>(page, next));
    }

    private static async Task<Ok<List<OrganizationWriteBack>>> ByOrganizationAsync(AppDbContext db, CancellationToken ct)
    {
        var counts = await db.Set<MembershipChange>().AsNoTracking()
            .GroupBy(c => new { c.OrganizationId, c.State })
            .Select(g => new { g.Key.OrganizationId, g.Key.State, Count = g.Count() })
            .ToListAsync(ct);
        var ids = counts.Select(c => c.OrganizationId).Distinct().ToList();
        var organizations = await db.Set<Record>().AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, ct);
        int Count(Guid id, WriteBackState state) => counts.Where(c => c.OrganizationId == id && c.State == state).Sum(c => c.Count);
        return TypedResults.Ok(ids
            .Select(id => new OrganizationWriteBack(id, organizations.GetValueOrDefault(id)?.ExternalId, organizations.GetValueOrDefault(id)?.Name,
                Count(id, WriteBackState.Pending), Count(id, WriteBackState.Failed), Count(id, WriteBackState.Done), Count(id, WriteBackState.NotInJsm), Count(id, WriteBackState.Superseded), Count(id, WriteBackState.FromJsm)))
            .OrderByDescending(o => o.Failed).ThenByDescending(o => o.Pending).ThenBy(o => o.Name, StringComparer.Ordinal)
            .ToList());
    }

    private static async Task<Ok<RetryResult>> RetryAsync(RetryRequest? body, AppDbContext db, TimeProvider time, CancellationToken ct)
    {
        var query = db.Set<MembershipChange>().Where(c => c.State == WriteBackState.Failed);
        if (body?.ChangeIds is { Count: > 0 } changeIds)
        {
            query = query.Where(c => changeIds.Contains(c.Id));
        }
        else if (body?.OrganizationId is { } org)
        {
            query = query.Where(c => c.OrganizationId == org);
        }

        var failed = await query.ToListAsync(ct);
        var now = time.GetUtcNow();
        foreach (var change in failed)
        {
            change.State = WriteBackState.Pending;
            change.CompletedAt = null;
            change.UpdatedAt = now;
        }

        foreach (var org in failed.Select(c => (c.TenantId, c.OrganizationId)).Distinct())
        {
            MembershipEditor.RequestWriteBack(db, org.TenantId, org.OrganizationId);
        }

        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new RetryResult(failed.Count));
    }

    private static void RefuseRemoved(Record customer, Record organization)
    {
        if (customer.RemovedAt is not null || organization.RemovedAt is not null)
        {
            throw MembershipProblems.RecordRemoved.Problem($"The {(customer.RemovedAt is not null ? "customer" : "organization")} is gone from JSM; a membership cannot be added to it.");
        }
    }

    private static MembershipResult Result(Record customer, Record organization, MembershipOperation operation, MembershipChange? change) =>
        new(customer.Id, organization.Id, operation == MembershipOperation.Add ? "add" : "remove", change is not null, change is null ? null : WriteBackView.From(change, customer, organization));

    private static async Task SaveAsync(AppDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw MembershipProblems.Conflict.Problem("The customer changed while you saved; nothing was changed. Try again.");
        }
        catch (DbUpdateException e) when (e.InnerException is Npgsql.PostgresException { SqlState: "23505" })
        {
            throw MembershipProblems.Conflict.Problem("The membership changed while you saved; nothing was changed. Try again.");
        }
    }

    private static string EncodeCursor(DateTimeOffset at, Guid id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(at.UtcTicks.ToString(CultureInfo.InvariantCulture) + "\n" + id.ToString("N"))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (DateTimeOffset At, Guid Id) DecodeCursor(string cursor)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded = padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('\n');
            return (new DateTimeOffset(long.Parse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture), TimeSpan.Zero), Guid.ParseExact(parts[1], "N"));
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or ArgumentException or OverflowException)
        {
            throw ApiProblems.CursorMalformed.Problem("The cursor is not one this API returned.");
        }
    }
}
