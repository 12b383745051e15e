using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Records;

/// <summary>Organizations and customers for agents (and API tokens): list, create, read, set values, bulk edit.</summary>
internal static class RecordsApi
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    public sealed record CreateOrganizationRequest(string JsmId, string Name, Dictionary<string, JsonNode?>? Values);

    public sealed record CreateCustomerRequest(string AccountId, string Name, string? Email, IReadOnlyList<Guid>? OrganizationIds, Dictionary<string, JsonNode?>? Values);

    public sealed record ValuesRequest(Dictionary<string, JsonNode?> Values);

    public sealed record BulkRequest(RecordEntity Entity, IReadOnlyList<Guid> RecordIds, Dictionary<string, JsonNode?> Values);

    public sealed record BulkResult(int Updated);

    internal static void Map(IEndpointRouteBuilder api)
    {
        foreach (var entity in Enum.GetValues<RecordEntity>())
        {
            var group = api.MapGroup(entity == RecordEntity.Organization ? "/organizations" : "/customers")
                .WithTags(entity == RecordEntity.Organization ? "Organizations" : "Customers")
                .RequireAuthorization(RolesFeature.Agent);
            group.MapGet("/", (Caller caller, AppDbContext db, FieldCatalogCache catalogs, string? q, string? cursor, int? limit, bool? includeRemoved, CancellationToken ct) => ListAsync(entity, caller, db, catalogs, q, cursor, limit, includeRemoved, ct))
                .Problems(ApiProblems.CursorMalformed);
            group.MapGet("/{id:guid}", (Guid id, Caller caller, HttpContext c, AppDbContext db, CancellationToken ct) => GetAsync(entity, id, caller, c, db, ct))
                .Problems(CommonProblems.NotFound).ReturnsETag();
            group.MapPatch("/{id:guid}/values", (Guid id, ValuesRequest body, Caller caller, HttpContext c, AppDbContext db, RecordWriter w, CancellationToken ct) => SetValuesAsync(entity, id, body, caller, c, db, w, ct))
                .Problems(WriteProblems).ReturnsETag();
            var create = entity == RecordEntity.Organization
                ? group.MapPost("/", (CreateOrganizationRequest body, Caller caller, HttpContext c, AppDbContext db, RecordWriter w, CancellationToken ct) =>
                    CreateAsync(entity, new(body.JsmId, body.Name, null, null, body.Values), caller, c, db, w, ct))
                : group.MapPost("/", (CreateCustomerRequest body, Caller caller, HttpContext c, AppDbContext db, RecordWriter w, CancellationToken ct) =>
                    CreateAsync(entity, new(body.AccountId, body.Name, body.Email, body.OrganizationIds, body.Values), caller, c, db, w, ct));
            create.Problems(CommonProblems.ValidationFailed, CommonProblems.NotFound, RecordProblems.Exists).ReturnsETag();
        }

        api.MapPost("/bulk/values", BulkAsync).WithTags("Bulk edit").RequireAuthorization(RolesFeature.Agent)
            .Problems(CommonProblems.ValidationFailed, RecordProblems.BulkSize, RecordProblems.BulkNoValues, RecordProblems.BulkRecordsNotFound);
    }

    /// <summary>What a values write may answer besides success.</summary>
    internal static readonly Problems.ProblemType[] WriteProblems =
        [CommonProblems.ValidationFailed, CommonProblems.NotFound, RecordProblems.ValuesMissing, RecordProblems.VersionMismatch, ApiProblems.PreconditionRequired, ApiProblems.IfMatchMalformed];

    private static async Task<Ok<Page<RecordView>>> ListAsync(RecordEntity entity, Caller caller, AppDbContext db, FieldCatalogCache catalogs, string? q, string? cursor, int? limit, bool? includeRemoved, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? DefaultPageSize, 1, MaxPageSize);
        var query = db.Set<Record>().AsNoTracking().Where(r => r.Entity == entity);
        if (includeRemoved != true)
        {
            query = query.Where(r => r.RemovedAt == null); // gone from JSM (the directory sync marked it): shown only when asked for
        }

        if (!string.IsNullOrWhiteSpace(q))
        {
            var pattern = "%" + q.Trim().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
            query = query.Where(r => EF.Functions.ILike(r.Name, pattern) || EF.Functions.ILike(r.ExternalId, pattern));
        }

        if (cursor is not null)
        {
            var (name, id) = DecodeCursor(cursor);
            query = query.Where(r => string.Compare(r.Name, name) > 0 || (r.Name == name && r.Id.CompareTo(id) > 0));
        }

        var rows = await query.OrderBy(r => r.Name).ThenBy(r => r.Id).Take(size + 1).ToListAsync(ct);
        var catalog = await catalogs.GetAsync(caller.TenantId, entity, db, ct); // a read: the cached catalog (stamped, like the issue panel's)
        var memberships = entity == RecordEntity.Customer ? await MembershipsAsync(db, rows.Take(size).Select(r => r.Id).ToList(), ct) : null;
        var page = rows.Take(size).Select(r => RecordView.From(r, catalog, caller.Role, memberships?.GetValueOrDefault(r.Id) ?? (memberships is null ? null : []))).ToList();
        var next = rows.Count > size ? EncodeCursor(rows[size - 1].Name, rows[size - 1].Id) : null;
        return TypedResults.Ok(new Page<RecordView>(page, next));
    }

    private static async Task<Ok<RecordView>> GetAsync(RecordEntity entity, Guid id, Caller caller, HttpContext context, AppDbContext db, CancellationToken ct)
    {
        var record = await db.Set<Record>().AsNoTracking().SingleOrDefaultAsync(r => r.Id == id && r.Entity == entity, ct) ?? throw RecordProblems.NotFound(entity);
        return await ViewAsync(record, caller.Role, context, db, ct);
    }

    private static async Task<Created<RecordView>> CreateAsync(RecordEntity entity, RecordWriter.NewRecord input, Caller caller, HttpContext context, AppDbContext db, RecordWriter writer, CancellationToken ct)
    {
        var record = await writer.CreateAsync(caller, entity, input, ct);
        var view = await ViewAsync(record, caller.Role, context, db, ct);
        return TypedResults.Created($"/api/{(entity == RecordEntity.Organization ? "organizations" : "customers")}/{record.Id}", view.Value);
    }

    private static async Task<Ok<RecordView>> SetValuesAsync(RecordEntity entity, Guid id, ValuesRequest body, Caller caller, HttpContext context, AppDbContext db, RecordWriter writer, CancellationToken ct)
    {
        var expected = ETags.Required(context.Request);
        var record = await db.Set<Record>().SingleOrDefaultAsync(r => r.Id == id && r.Entity == entity, ct) ?? throw RecordProblems.NotFound(entity);
        record = await writer.SetValuesAsync(caller, record, expected, RequireValues(body), ct);
        return await ViewAsync(record, caller.Role, context, db, ct);
    }

    /// <summary>A values request without a values object is a mistake, not a no-op.</summary>
    internal static Dictionary<string, JsonNode?> RequireValues(ValuesRequest? body) =>
        body?.Values ?? throw RecordProblems.ValuesMissing.Problem("Send {\"values\": {\"<field key>\": <value or null>}}.");

    private static async Task<Ok<BulkResult>> BulkAsync(BulkRequest body, Caller caller, RecordWriter writer, CancellationToken ct)
    {
        var updated = await writer.BulkSetAsync(caller, body.Entity, body.RecordIds ?? [], body.Values ?? [], ct);
        return TypedResults.Ok(new BulkResult(updated));
    }

    internal static async Task<Ok<RecordView>> ViewAsync(Record record, AppRole role, HttpContext context, AppDbContext db, CancellationToken ct)
    {
        var catalog = await FieldCatalog.LoadAsync(db, record.Entity, ct);
        var orgs = record.Entity == RecordEntity.Customer ? (await MembershipsAsync(db, [record.Id], ct)).GetValueOrDefault(record.Id) ?? [] : null;
        ETags.Set(context.Response, record.Version);
        return TypedResults.Ok(RecordView.From(record, catalog, role, orgs));
    }

    internal static async Task<Dictionary<Guid, List<Guid>>> MembershipsAsync(AppDbContext db, IReadOnlyCollection<Guid> customerIds, CancellationToken ct) =>
        (await db.Set<Membership>().AsNoTracking().Where(m => customerIds.Contains(m.CustomerId)).ToListAsync(ct))
            .GroupBy(m => m.CustomerId)
            .ToDictionary(g => g.Key, g => g.Select(m => m.OrganizationId).ToList());

    private static string EncodeCursor(string name, Guid id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(name + "\n" + id.ToString("N"))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (string Name, Guid Id) DecodeCursor(string cursor)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded = padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(padded)).Split('\n');
            return (parts[0], Guid.ParseExact(parts[1], "N"));
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or ArgumentException)
        {
            throw ApiProblems.CursorMalformed.Problem("The cursor is not one this API returned.");
        }
    }
}
