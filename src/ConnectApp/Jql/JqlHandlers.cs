using ConnectApp.Messaging;
using ConnectApp.Outbox;

namespace ConnectApp.Jql;

/// <summary><c>jql.stamp.v1</c>: stamps the issues of a changed customer (of an organization's members).</summary>
internal sealed class JqlStampHandler(IssueStamper stamper, ILogger<JqlStampHandler> logger) : IMessageHandler
{
    public Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken) =>
        Commands.RunAsync<JqlStampRequested>(body, context, m => m.RecordId, m => stamper.StampRecordAsync(m.TenantId, m.RecordId, cancellationToken), logger, "Stamping the issues of record", cancellationToken);
}

/// <summary><c>jql.aliases.v1</c>: registers the tenant's JQL aliases again when its searchable fields changed.</summary>
internal sealed class JqlAliasesHandler(JqlAliases aliases, ILogger<JqlAliasesHandler> logger) : IMessageHandler
{
    public Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken) =>
        Commands.RunAsync<JqlAliasesChanged>(body, context, m => m.TenantId, m => aliases.RegisterAsync(m.TenantId, cancellationToken), logger, "Registering the JQL aliases of tenant", cancellationToken);
}
