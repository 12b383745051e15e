using ConnectApp.Messaging;
using ConnectApp.Outbox;

namespace ConnectApp.Jql;

/// <summary><c>jql.stamp.v1</c>: stamps the issues of a changed customer (of an organization's members).</summary>
internal sealed class JqlStampHandler(IssueStamper stamper, ILogger<JqlStampHandler> logger) : IMessageHandler
{
    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        if (!Commands.TryRead<JqlStampRequested>(body, context, m => m.RecordId, out var message, out var refusal))
        {
            return refusal;
        }

        try
        {
            await stamper.StampRecordAsync(message.TenantId, message.RecordId, cancellationToken);
            return HandlerResult.Success;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Stamping the issues of record {RecordId} failed on attempt {Attempt}", message.RecordId, context.Attempt);
            return HandlerResult.Retry(e.GetType().Name + ": " + e.Message);
        }
    }
}

/// <summary><c>jql.aliases.v1</c>: registers the tenant's JQL aliases again when its searchable fields changed.</summary>
internal sealed class JqlAliasesHandler(JqlAliases aliases, ILogger<JqlAliasesHandler> logger) : IMessageHandler
{
    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        if (!Commands.TryRead<JqlAliasesChanged>(body, context, m => m.TenantId, out var message, out var refusal))
        {
            return refusal;
        }

        try
        {
            await aliases.RegisterAsync(message.TenantId, cancellationToken);
            return HandlerResult.Success;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(e, "Registering the JQL aliases of tenant {TenantId} failed on attempt {Attempt}", message.TenantId, context.Attempt);
            return HandlerResult.Retry(e.GetType().Name + ": " + e.Message);
        }
    }
}
