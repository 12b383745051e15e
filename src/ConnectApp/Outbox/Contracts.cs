using System.Text.Json;
using System.Text.Json.Serialization;
using ConnectApp.Fields;

namespace ConnectApp.Outbox;

/// <summary>
/// Every message the app sends through the outbox and RabbitMQ, in one place. A contract is small (ids and a
/// version, never tenant data), and its name carries a version: a change that old consumers cannot read is a new
/// contract (<c>.v2</c>) published beside the old one until every consumer reads it. The name is also the routing key.
/// </summary>
internal static class Contracts
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false) },
    };

    /// <summary>The versioned name (routing key) of a contract type.</summary>
    public static string TypeOf<T>()
        where T : IMessage => T.Type;

    public static string Serialize<T>(T message)
        where T : IMessage => JsonSerializer.Serialize(message, Json);

    public static T? Deserialize<T>(ReadOnlySpan<byte> body)
        where T : IMessage => JsonSerializer.Deserialize<T>(body, Json);
}

/// <summary>A message contract: its tenant, and a static versioned name that is also its routing key.</summary>
internal interface IMessage
{
    static abstract string Type { get; }

    Guid TenantId { get; }
}

/// <summary>
/// An organization or customer (its name, email, values or memberships) changed, was created, or is gone. Consumers
/// read the record's current state; <see cref="Version"/> is the version the change produced (duplicates and
/// reordering are harmless: the index keeps the highest version it has seen).
/// </summary>
internal sealed record RecordChanged(Guid TenantId, Guid RecordId, RecordEntity Entity, int Version) : IMessage
{
    public static string Type => "record.changed.v1";
}

/// <summary>A field definition (or one of its options) was created or changed.</summary>
internal sealed record FieldChanged(Guid TenantId, Guid FieldId, RecordEntity Entity, int Version) : IMessage
{
    public static string Type => "field.changed.v1";
}

/// <summary>A CSV import was uploaded and waits for a worker.</summary>
internal sealed record ImportRequested(Guid TenantId, Guid ImportId) : IMessage
{
    public static string Type => "import.requested.v1";
}

/// <summary>Rebuild a tenant's search documents from PostgreSQL (one message per tenant of a reindex run).</summary>
internal sealed record ReindexRequested(Guid TenantId, Guid RunId) : IMessage
{
    public static string Type => "reindex.requested.v1";
}

/// <summary>
/// A tenant was uninstalled or (re)installed: the retention schedule must follow. The handler reads the tenant's
/// current state (so duplicates and reordering are harmless) and adds or removes its purge trigger.
/// </summary>
internal sealed record PurgeScheduleChanged(Guid TenantId) : IMessage
{
    public static string Type => "purge.schedule.v1";
}

/// <summary>Purge a tenant's data now (the run <see cref="PurgeId"/> says why and how far it got).</summary>
internal sealed record PurgeRequested(Guid TenantId, Guid PurgeId) : IMessage
{
    public static string Type => "purge.requested.v1";
}

/// <summary>Report the accountIds stored for a tenant to Atlassian and act on the answer (personal data reporting).</summary>
internal sealed record AccountsReportRequested(Guid TenantId) : IMessage
{
    public static string Type => "personal-data.report.v1";
}

/// <summary>Run (or resume) a JSM directory sync of a tenant: one message per run (sync.requested.v1).</summary>
internal sealed record SyncRequested(Guid TenantId, Guid RunId) : IMessage
{
    public static string Type => "sync.requested.v1";
}

/// <summary>A Jira webhook was received and recorded (<see cref="DeliveryId"/> is the row that holds what it said); the worker acts on it.</summary>
internal sealed record WebhookReceived(Guid TenantId, Guid DeliveryId) : IMessage
{
    public static string Type => "webhook.received.v1";
}

/// <summary>
/// The values or memberships of a customer or organization changed: the issues its customers reported carry a stale
/// JQL property (the handler compares with what it stamped last, so a change of nothing searchable costs no Jira call).
/// </summary>
internal sealed record JqlStampRequested(Guid TenantId, Guid RecordId) : IMessage
{
    public static string Type => "jql.stamp.v1";
}

/// <summary>A field definition changed: the tenant's JQL aliases (a Connect dynamic module) may have to be registered again.</summary>
internal sealed record JqlAliasesChanged(Guid TenantId) : IMessage
{
    public static string Type => "jql.aliases.v1";
}

/// <summary>
/// Membership changes made in the app wait to be written back to an organization in JSM (membership.writeback.v1): the
/// worker sends every pending change of that organization, in batches, and records per change how it went.
/// </summary>
internal sealed record MembershipWriteBackRequested(Guid TenantId, Guid OrganizationId) : IMessage
{
    public static string Type => "membership.writeback.v1";
}

/// <summary>
/// Reads a command that names one run of work for a tenant (a purge, a sync, a reindex, an import): its contract, or a
/// rejection — never retried, it would fail the same way — when it is unreadable, names no run, or names another tenant
/// than the message header it arrived with.
/// </summary>
internal static class Commands
{
    public static bool TryRead<T>(ReadOnlyMemory<byte> body, Messaging.MessageContext context, Func<T, Guid> runId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? message, out Messaging.HandlerResult refusal)
        where T : class, IMessage
    {
        refusal = default;
        try
        {
            message = Contracts.Deserialize<T>(body.Span);
        }
        catch (JsonException e)
        {
            message = null;
            refusal = Messaging.HandlerResult.Reject($"Unreadable {T.Type}: {e.Message}");
            return false;
        }

        if (message is null || runId(message) == Guid.Empty || message.TenantId != context.TenantId)
        {
            message = null;
            refusal = Messaging.HandlerResult.Reject($"{T.Type} without its id, or for another tenant than its header says.");
            return false;
        }

        return true;
    }

    /// <summary>
    /// Reads the command and does its work; a failure is logged with <paramref name="work"/> and the command's id and
    /// retried (the listener dead-letters it after the last attempt). For handlers with nothing to record on failure.
    /// </summary>
    public static async Task<Messaging.HandlerResult> RunAsync<T>(
        ReadOnlyMemory<byte> body, Messaging.MessageContext context, Func<T, Guid> id, Func<T, Task> run, ILogger logger, string work, CancellationToken cancellationToken)
        where T : class, IMessage
    {
        if (!TryRead(body, context, id, out var message, out var refusal))
        {
            return refusal;
        }

        try
        {
            await run(message);
            return Messaging.HandlerResult.Success;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "{Work} {Id} failed on attempt {Attempt}", work, id(message), context.Attempt);
            return Messaging.HandlerResult.Retry(e.GetType().Name + ": " + e.Message);
        }
    }
}
