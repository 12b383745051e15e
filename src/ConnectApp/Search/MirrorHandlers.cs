using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Fields;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Records;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Search;

/// <summary>
/// <c>record.changed.v1</c>: makes the record's search document match PostgreSQL. It reads the record's current state
/// (under the message's tenant) rather than trusting the message, so a duplicate, late or reordered message can only
/// write the current state again; the index's version guard keeps an older read from overwriting a newer one.
/// </summary>
internal sealed class RecordChangedHandler(MirrorBatcher batcher) : IMessageHandler
{
    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        RecordChanged? message;
        try
        {
            message = Contracts.Deserialize<RecordChanged>(body.Span);
        }
        catch (System.Text.Json.JsonException e)
        {
            return HandlerResult.Reject("Unreadable record.changed.v1: " + e.Message);
        }

        if (message is null || message.RecordId == Guid.Empty || message.TenantId == Guid.Empty || message.TenantId != context.TenantId)
        {
            return HandlerResult.Reject("record.changed.v1 without a record id, or for another tenant than its header says.");
        }

        // Applied together with the other deliveries in flight (MirrorBatcher), which also marks the outbox row applied
        // in the same transaction; the result is still this message's own.
        await batcher.ApplyAsync(message.TenantId, message.RecordId, context.OutboxId, cancellationToken);
        return HandlerResult.SuccessOutboxMarked;
    }
}

/// <summary>
/// <c>field.changed.v1</c>: nothing to rebuild. Documents keep values by field id, and the search API reads
/// definitions (type, options, archived) when it builds a query; a type change that converts values changes the
/// records too, and each of those has its own record.changed message.
/// </summary>
internal sealed class FieldChangedHandler : IMessageHandler
{
    public Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken) =>
        Task.FromResult(HandlerResult.Success);
}

/// <summary>Builds search documents from PostgreSQL (the system of record), for the mirror and for a reindex.</summary>
internal static class SearchDocuments
{
    public static async Task<List<IndexedRecord>> LoadAsync(AppDbContext db, IReadOnlyCollection<Guid> recordIds, CancellationToken cancellationToken)
    {
        // A record the directory sync found gone from JSM keeps its values in PostgreSQL but leaves the index: the
        // directory searches what is in JSM (the list endpoint shows removed records on request).
        var records = await db.Set<Record>().AsNoTracking().Where(r => recordIds.Contains(r.Id) && r.RemovedAt == null).ToListAsync(cancellationToken);
        return await BuildAsync(db, records, cancellationToken);
    }

    public static async Task<List<IndexedRecord>> BuildAsync(AppDbContext db, IReadOnlyList<Record> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return [];
        }

        var customerIds = records.Where(r => r.Entity == RecordEntity.Customer).Select(r => r.Id).ToList();
        var memberships = customerIds.Count == 0 ? [] : (await db.Set<Membership>().AsNoTracking().Where(m => customerIds.Contains(m.CustomerId)).ToListAsync(cancellationToken))
            .GroupBy(m => m.CustomerId).ToDictionary(g => g.Key, g => g.Select(m => m.OrganizationId).Order().ToList());
        var textFields = (await db.Set<FieldDefinition>().AsNoTracking()
                .Where(f => f.Type == FieldType.Text || f.Type == FieldType.Paragraph)
                .Select(f => f.Id).ToListAsync(cancellationToken))
            .Select(id => id.ToString()).ToHashSet(StringComparer.Ordinal);
        return records.Select(r =>
        {
            var values = JsonNode.Parse(r.ValuesJson)!.AsObject();
            var words = new StringBuilder(r.Name);
            foreach (var (key, value) in values)
            {
                if (textFields.Contains(key) && value is JsonValue v && v.TryGetValue<string>(out var text))
                {
                    words.Append('\n').Append(text);
                }
            }

            return new IndexedRecord(r.Id, r.Entity, r.ExternalId, r.Name, r.Email, memberships.GetValueOrDefault(r.Id) ?? [], values, r.Version, r.UpdatedAt, words.ToString());
        }).ToList();
    }
}
