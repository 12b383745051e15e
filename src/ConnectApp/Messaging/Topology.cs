using RabbitMQ.Client;

namespace ConnectApp.Messaging;

/// <summary>One consumer queue: what it is bound to, how much it takes at once.</summary>
internal sealed record QueueSpec(string Name, string[] Bindings, ushort Prefetch, ushort Concurrency)
{
    public string DeadLetterQueue => Name + ".dead";

    public string RetryQueue(int attempt) => $"{Name}.retry.{attempt}";
}

/// <summary>
/// The broker's layout, declared (idempotently) by the relay and by every listener, so whichever starts first makes
/// it. One durable topic exchange; per consumer a durable quorum queue, one delay queue per retry step (a message
/// waits there for its back-off, then dead-letters back into the consumer queue) and a quorum dead-letter queue.
/// </summary>
internal static class Topology
{
    public const string Exchange = "connectapp.events";

    /// <summary>Header: which attempt this delivery is (1 for the first).</summary>
    public const string AttemptHeader = "x-connectapp-attempt";

    /// <summary>Header on a dead-lettered message: why it was given up.</summary>
    public const string ReasonHeader = "x-connectapp-dead-reason";

    /// <summary>Header: the tenant the message acts for (the listener enters it before the handler runs).</summary>
    public const string TenantHeader = "x-connectapp-tenant";

    /// <summary>Back-off before the 2nd, 3rd and 4th attempt; after the last, the message is dead-lettered.</summary>
    public static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)];

    /// <summary>Every prefetched delivery is handled at once; the mirror handler batches them (MirrorBatcher).</summary>
    public static readonly QueueSpec Mirror = new("connectapp.mirror", ["record.changed.*", "field.changed.*"], Prefetch: 128, Concurrency: 128);

    /// <summary>CSV imports run for minutes: one at a time per worker process, unacked until done (a killed worker's import is redelivered).</summary>
    public static readonly QueueSpec Imports = new("connectapp.imports", ["import.requested.*"], Prefetch: 1, Concurrency: 1);

    public static readonly QueueSpec Reindex = new("connectapp.reindex", ["reindex.requested.*"], Prefetch: 1, Concurrency: 1);

    /// <summary>Tenant purges: minutes for a big tenant, unacked until done (a killed worker's purge is redelivered and resumes).</summary>
    public static readonly QueueSpec Purge = new("connectapp.purge", ["purge.requested.*"], Prefetch: 1, Concurrency: 1);

    /// <summary>Retention scheduling (add or remove a tenant's purge trigger): quick, and never behind a running purge.</summary>
    public static readonly QueueSpec Retention = new("connectapp.retention", ["purge.schedule.*"], Prefetch: 8, Concurrency: 1);

    /// <summary>Personal data reporting: one tenant's report (a few Jira calls, erasures) at a time.</summary>
    public static readonly QueueSpec Privacy = new("connectapp.privacy", ["personal-data.report.*"], Prefetch: 1, Concurrency: 1);

    /// <summary>
    /// Directory syncs run for minutes and stay unacked until done (a killed worker's sync is redelivered and re-run,
    /// which is idempotent). Four at once per worker, so one big site's sync never holds up another site's.
    /// </summary>
    public static readonly QueueSpec Sync = new("connectapp.sync", ["sync.requested.*"], Prefetch: 4, Concurrency: 4);

    /// <summary>Jira webhooks, acted on after they were acknowledged: a refresh, an erasure, an issue to stamp (a few Jira calls each).</summary>
    public static readonly QueueSpec Webhooks = new("connectapp.webhooks", ["webhook.*.*"], Prefetch: 8, Concurrency: 4);

    /// <summary>JQL properties: stamping the issues of changed customers and registering the tenant's aliases (Jira calls, rate-limit aware).</summary>
    public static readonly QueueSpec Jql = new("connectapp.jql", ["jql.*.*"], Prefetch: 8, Concurrency: 4);

    /// <summary>
    /// Membership write-backs to JSM, one organization per message: a few calls each, but a site that answers 429 holds
    /// its message for its Retry-After; four at once so other sites' write-backs go on meanwhile.
    /// </summary>
    public static readonly QueueSpec WriteBack = new("connectapp.writeback", ["membership.writeback.*"], Prefetch: 4, Concurrency: 4);

    public static readonly QueueSpec[] Queues = [Mirror, Imports, Reindex, Purge, Retention, Sync, Privacy, Webhooks, Jql, WriteBack];

    public static async Task DeclareAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        foreach (var queue in Queues)
        {
            var quorum = new Dictionary<string, object?> { ["x-queue-type"] = "quorum" };
            await channel.QueueDeclareAsync(queue.Name, durable: true, exclusive: false, autoDelete: false, arguments: quorum, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(queue.DeadLetterQueue, durable: true, exclusive: false, autoDelete: false, arguments: quorum, cancellationToken: cancellationToken);
            for (var i = 0; i < RetryDelays.Length; i++)
            {
                await channel.QueueDeclareAsync(queue.RetryQueue(i + 1), durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
                {
                    ["x-message-ttl"] = (int)RetryDelays[i].TotalMilliseconds,
                    ["x-dead-letter-exchange"] = string.Empty,
                    ["x-dead-letter-routing-key"] = queue.Name,
                }, cancellationToken: cancellationToken);
            }

            foreach (var binding in queue.Bindings)
            {
                await channel.QueueBindAsync(queue.Name, Exchange, binding, cancellationToken: cancellationToken);
            }
        }
    }
}
