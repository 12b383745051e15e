using System.Text.Json.Nodes;
using ConnectApp.Persistence;

namespace ConnectApp.Audit;

/// <summary>Adds audit rows to the caller's unit of work, so they commit (or not) with the change they describe.</summary>
internal sealed class AuditLog(AppDbContext db, TimeProvider time)
{
    public void Add(Guid tenantId, string actor, string action, string subject, Guid? recordId, Guid? fieldId, JsonNode? oldValue, JsonNode? newValue) =>
        db.Set<AuditEntry>().Add(new AuditEntry
        {
            TenantId = tenantId,
            OccurredAt = time.GetUtcNow(),
            Actor = actor,
            Action = action,
            Subject = subject,
            RecordId = recordId,
            FieldId = fieldId,
            OldValue = oldValue?.ToJsonString(),
            NewValue = newValue?.ToJsonString(),
        });
}
