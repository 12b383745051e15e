using System.Text.Json.Nodes;
using ConnectApp.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Audit;

/// <summary>
/// Reading the audit log as history, newest first, paged by entry id. The endpoints that show it belong to what the
/// history is of (Records, Fields); they pass the lookup that names fields by key.
/// </summary>
internal static class AuditHistory
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 500;

    public sealed record HistoryEntry(long Id, DateTimeOffset OccurredAt, string Actor, string Action, string Subject, Guid? RecordId, Guid? FieldId, string? FieldKey, JsonNode? OldValue, JsonNode? NewValue);

    public sealed record History(IReadOnlyList<HistoryEntry> Entries, long? NextBefore);

    /// <summary>Field id → key for the fields a page mentions.</summary>
    public delegate Task<IReadOnlyDictionary<Guid, string>> FieldKeys(IReadOnlyCollection<Guid> fieldIds, CancellationToken cancellationToken);

    public static async Task<Ok<History>> PageAsync(AppDbContext db, Func<IQueryable<AuditEntry>, IQueryable<AuditEntry>> filter, long? before, int? limit, FieldKeys fieldKeys, CancellationToken ct)
    {
        var size = Math.Clamp(limit ?? DefaultPageSize, 1, MaxPageSize);
        var query = filter(db.Set<AuditEntry>().AsNoTracking());
        if (before is { } b)
        {
            query = query.Where(a => a.Id < b);
        }

        var rows = await query.OrderByDescending(a => a.Id).Take(size + 1).ToListAsync(ct);
        var fieldIds = rows.Where(r => r.FieldId is not null).Select(r => r.FieldId!.Value).Distinct().ToList();
        var keys = fieldIds.Count == 0 ? new Dictionary<Guid, string>() : await fieldKeys(fieldIds, ct);
        var entries = rows.Take(size).Select(a => new HistoryEntry(
            a.Id, a.OccurredAt, a.Actor, a.Action, a.Subject, a.RecordId, a.FieldId, a.FieldId is { } f ? keys.GetValueOrDefault(f) : null,
            a.OldValue is null ? null : JsonNode.Parse(a.OldValue), a.NewValue is null ? null : JsonNode.Parse(a.NewValue))).ToList();
        return TypedResults.Ok(new History(entries, rows.Count > size ? rows[size - 1].Id : null));
    }
}
