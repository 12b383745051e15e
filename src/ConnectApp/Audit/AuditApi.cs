using System.Text.Json.Nodes;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Records;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Audit;

/// <summary>History of a record or a field, and restore of a value from history.</summary>
internal static class AuditApi
{
    public sealed record HistoryEntry(long Id, DateTimeOffset OccurredAt, string Actor, string Action, string Subject, Guid? RecordId, Guid? FieldId, string? FieldKey, JsonNode? OldValue, JsonNode? NewValue);

    public sealed record History(IReadOnlyList<HistoryEntry> Entries, long? NextBefore);

    public static IEndpointRouteBuilder MapAuditEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(string.Empty).WithTags("History").RequireAuthorization(RolesFeature.Agent);
        group.MapGet("/organizations/{id:guid}/history", (Guid id, AppDbContext db, long? before, int? limit, CancellationToken ct) => RecordHistoryAsync(RecordEntity.Organization, id, db, before, limit, ct));
        group.MapGet("/customers/{id:guid}/history", (Guid id, AppDbContext db, long? before, int? limit, CancellationToken ct) => RecordHistoryAsync(RecordEntity.Customer, id, db, before, limit, ct));
        group.MapGet("/fields/{id:guid}/history", FieldHistoryAsync);
        group.MapPost("/history/{entryId:long}/restore", RestoreAsync);
        return app;
    }

    private static async Task<Ok<History>> RecordHistoryAsync(RecordEntity entity, Guid id, AppDbContext db, long? before, int? limit, CancellationToken ct)
    {
        if (!await db.Records.AnyAsync(r => r.Id == id && r.Entity == entity, ct))
        {
            throw RecordsApi.NotFound(entity);
        }

        return await PageAsync(db, db.AuditEntries.Where(a => a.RecordId == id), before, limit, ct);
    }

    private static async Task<Ok<History>> FieldHistoryAsync(Guid id, AppDbContext db, long? before, int? limit, CancellationToken ct)
    {
        if (!await db.FieldDefinitions.AnyAsync(f => f.Id == id, ct))
        {
            throw AppProblem.NotFound("The field");
        }

        return await PageAsync(db, db.AuditEntries.Where(a => a.FieldId == id), before, limit, ct);
    }

    /// <summary>Makes the value an entry recorded (its new value) current again; audited as value.restored.</summary>
    private static async Task<Ok<RecordView>> RestoreAsync(long entryId, HttpContext context, AppDbContext db, RecordWriter writer, CancellationToken ct)
    {
        var caller = await Caller.FromAsync(context);
        var entry = await db.AuditEntries.AsNoTracking().SingleOrDefaultAsync(a => a.Id == entryId, ct) ?? throw AppProblem.NotFound("The history entry");
        if (entry.RecordId is not { } recordId || entry.FieldId is not { } fieldId || !entry.Action.StartsWith("value.", StringComparison.Ordinal))
        {
            throw AppProblem.BadRequest("history.not_a_value", "Only value changes can be restored.");
        }

        var record = await db.Records.SingleOrDefaultAsync(r => r.Id == recordId, ct) ?? throw AppProblem.NotFound("The record");
        var field = await db.FieldDefinitions.AsNoTracking().SingleOrDefaultAsync(f => f.Id == fieldId, ct) ?? throw AppProblem.NotFound("The field");
        var value = entry.NewValue is null ? null : JsonNode.Parse(entry.NewValue);
        var expected = context.Request.Headers.IfMatch.Count > 0 ? Versions.Required(context.Request) : record.Version;
        record = await writer.SetValuesAsync(caller, record, expected, new Dictionary<string, JsonNode?> { [field.Key] = value }, ct, "value.restored");
        return await RecordsApi.ViewAsync(record, caller.Role, context, db, ct);
    }

    private static async Task<Ok<History>> PageAsync(AppDbContext db, IQueryable<AuditEntry> query, long? before, int? limit, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? 100, 1, 500);
        if (before is { } b)
        {
            query = query.Where(a => a.Id < b);
        }

        var rows = await query.AsNoTracking().OrderByDescending(a => a.Id).Take(size + 1).ToListAsync(ct);
        var fieldIds = rows.Where(r => r.FieldId is not null).Select(r => r.FieldId!.Value).Distinct().ToList();
        var keys = await db.FieldDefinitions.AsNoTracking().Where(f => fieldIds.Contains(f.Id)).ToDictionaryAsync(f => f.Id, f => f.Key, ct);
        var entries = rows.Take(size).Select(a => new HistoryEntry(
            a.Id, a.OccurredAt, a.Actor, a.Action, a.Subject, a.RecordId, a.FieldId, a.FieldId is { } f ? keys.GetValueOrDefault(f) : null,
            a.OldValue is null ? null : JsonNode.Parse(a.OldValue), a.NewValue is null ? null : JsonNode.Parse(a.NewValue))).ToList();
        return TypedResults.Ok(new History(entries, rows.Count > size ? rows[size - 1].Id : null));
    }
}
