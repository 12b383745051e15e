namespace ConnectApp.Messaging;

internal enum HandlerOutcome
{
    /// <summary>Done (or nothing to do): acknowledge.</summary>
    Success,

    /// <summary>Failed in a way that may pass later (database or broker hiccup): retry after a back-off, then dead-letter.</summary>
    Retry,

    /// <summary>Can never succeed (unreadable, unknown type): dead-letter at once.</summary>
    Reject,
}

/// <summary>What a handler made of a message. The handler decides nothing else: the listener alone acks, retries or dead-letters.</summary>
internal readonly record struct HandlerResult(HandlerOutcome Outcome, string? Reason)
{
    public static HandlerResult Success { get; } = new(HandlerOutcome.Success, null);

    /// <summary>Done, and the handler already marked the outbox row applied in its own transaction (the listener need not).</summary>
    public static HandlerResult SuccessOutboxMarked { get; } = new(HandlerOutcome.Success, null) { OutboxMarked = true };

    public bool OutboxMarked { get; private init; }

    public static HandlerResult Retry(string reason) => new(HandlerOutcome.Retry, reason);

    public static HandlerResult Reject(string reason) => new(HandlerOutcome.Reject, reason);
}

/// <summary>A delivery as a handler sees it.</summary>
internal sealed record MessageContext(long? OutboxId, string Type, Guid? TenantId, int Attempt, bool LastAttempt);

/// <summary>
/// Handles one message type, registered as a keyed service under the contract's name. Runs in its own DI scope, which
/// already acts for the message's tenant. Must be idempotent: a message can arrive twice and out of order.
/// </summary>
internal interface IMessageHandler
{
    Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken);
}
