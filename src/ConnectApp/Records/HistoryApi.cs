using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Audit;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Records;

/// <summary>History of an organization or customer, and restore of a value from history.</summary>
internal static class HistoryApi
{
    internal static void Map(IEndpointRouteBuilder api)
    {
        var group = api.MapGroup(string.Empty).WithTags("History").RequireAuthorization(RolesFeature.Agent);
        group.MapGet("/organizations/{id:guid}/history", (Guid id, AppDbContext db, long? before, int? limit, CancellationToken ct) => RecordHistoryAsync(RecordEntity.Organization, id, db, before, limit, ct))
            .Problems(CommonProblems.NotFound);
        group.MapGet("/customers/{id:guid}/history", (Guid id, AppDbContext db, long? before, int? limit, CancellationToken ct) => RecordHistoryAsync(RecordEntity.Customer, id, db, before, limit, ct))
            .Problems(CommonProblems.NotFound);
        group.MapPost("/history/{entryId:long}/restore", RestoreAsync)
            .Problems([CommonProblems.ValidationFailed, CommonProblems.NotFound, RecordProblems.VersionMismatch, ApiProblems.IfMatchMalformed, RecordProblems.HistoryNotAValue])
            .ReturnsETag();
        api.MapGet("/admin/audit", SiteAuditAsync).WithTags("History").RequireAuthorization(RolesFeature.Admin)
            .WithSummary("The site's audit log, newest first: every change to fields, values, memberships, rules, tokens and data, by whom; action= narrows it to actions that start with it (value., membership., field., ...)");
    }

    private static Task<Ok<AuditHistory.History>> SiteAuditAsync(AppDbContext db, string? action, long? before, int? limit, CancellationToken ct) =>
        AuditHistory.PageAsync(
            db,
            q => string.IsNullOrWhiteSpace(action) ? q : q.Where(a => a.Action.StartsWith(action.Trim())),
            before,
            limit,
            (ids, c) => FieldCatalog.KeysAsync(db, ids, c),
            ct);

    private static async Task<Ok<AuditHistory.History>> RecordHistoryAsync(RecordEntity entity, Guid id, AppDbContext db, long? before, int? limit, CancellationToken ct)
    {
        if (!await db.Set<Record>().AnyAsync(r => r.Id == id && r.Entity == entity, ct))
        {
            throw RecordProblems.NotFound(entity);
        }

        return await AuditHistory.PageAsync(db, q => q.Where(a => a.RecordId == id), before, limit, (ids, c) => FieldCatalog.KeysAsync(db, ids, c), ct);
    }

    /// <summary>Makes the value an entry recorded (its new value) current again; audited as value.restored.</summary>
    private static async Task<Ok<RecordView>> RestoreAsync(long entryId, Caller caller, HttpContext context, AppDbContext db, RecordWriter writer, CancellationToken ct)
    {
        var entry = await db.Set<AuditEntry>().AsNoTracking().SingleOrDefaultAsync(a => a.Id == entryId, ct) ?? throw AppProblem.NotFound("The history entry");
        if (entry.RecordId is not { } recordId || entry.FieldId is not { } fieldId || !entry.Action.StartsWith("value.", StringComparison.Ordinal))
        {
            throw RecordProblems.HistoryNotAValue.Problem("Only value changes can be restored.");
        }

        var record = await db.Set<Record>().SingleOrDefaultAsync(r => r.Id == recordId, ct) ?? throw AppProblem.NotFound("The record");
        var field = await db.Set<FieldDefinition>().AsNoTracking().SingleOrDefaultAsync(f => f.Id == fieldId, ct) ?? throw AppProblem.NotFound("The field");
        var value = entry.NewValue is null ? null : JsonNode.Parse(entry.NewValue);
        var expected = ETags.Optional(context.Request) ?? record.Version;
        record = await writer.SetValuesAsync(caller, record, expected, new Dictionary<string, JsonNode?> { [field.Key] = value }, ct, "value.restored");
        return await RecordsApi.ViewAsync(record, caller.Role, context, db, ct);
    }
}
