using System.Globalization;
using System.Text;
using ConnectApp.Persistence;
using Npgsql;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace ConnectApp.Messaging;

/// <summary>
/// Consumes one queue (competing consumers: any number of worker processes may run it). Manual acks with a prefetch;
/// each delivery runs its handler in a fresh DI scope acting for the message's tenant; then this class alone decides:
/// success → mark the outbox row applied and ack; retry → republish (with confirms) to the next delay queue, then ack;
/// out of attempts or rejected → republish to the dead-letter queue with the reason in a header, then ack. A crash
/// between republish and ack delivers the message twice, which handlers tolerate. On shutdown an unfinished delivery
/// is handed back (nack, requeue) without counting an attempt.
/// </summary>
internal sealed class MessageListener(QueueSpec queue, IServiceScopeFactory scopes, RabbitMqConnection rabbit, NpgsqlDataSource dataSource, ILogger<MessageListener> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ConsumeAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Listener for {Queue} stopped; reconnecting", queue.Name);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ConsumeAsync(CancellationToken stoppingToken)
    {
        var connection = await rabbit.GetAsync(stoppingToken);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: queue.Concurrency), stoppingToken);
        await using var publisher = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), stoppingToken);
        await Topology.DeclareAsync(channel, stoppingToken);
        await channel.BasicQosAsync(0, queue.Prefetch, global: false, stoppingToken);

        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.ChannelShutdownAsync += (_, _) =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) => DeliverAsync(channel, publisher, delivery, stoppingToken);
        await channel.BasicConsumeAsync(queue.Name, autoAck: false, consumer, stoppingToken);
        logger.LogInformation("Consuming {Queue}", queue.Name);

        // Connection recovery brings the consumer back by itself after a broker restart; a channel closed for good ends this round.
        await closed.Task.WaitAsync(stoppingToken);
        if (connection.IsOpen)
        {
            throw new InvalidOperationException($"The channel of {queue.Name} closed.");
        }

        await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
    }

    private async Task DeliverAsync(IChannel channel, IChannel publisher, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        var properties = delivery.BasicProperties;
        var type = properties.Type ?? delivery.RoutingKey;
        var attempt = ReadInt(properties.Headers, Topology.AttemptHeader) ?? 1;
        var tenantId = Guid.TryParse(ReadString(properties.Headers, Topology.TenantHeader), out var t) ? t : (Guid?)null;
        var outboxId = long.TryParse(properties.MessageId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : (long?)null;
        var context = new MessageContext(outboxId, type, tenantId, attempt, attempt > Topology.RetryDelays.Length);

        HandlerResult result;
        try
        {
            result = await HandleAsync(delivery.Body, context, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
            return;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Handler for {Type} (message {MessageId}) failed on attempt {Attempt}", type, properties.MessageId, attempt);
            result = HandlerResult.Retry(e.GetType().Name + ": " + e.Message);
        }

        try
        {
            if (result.Outcome == HandlerOutcome.Success)
            {
                if (outboxId is { } applied && !result.OutboxMarked)
                {
                    await MarkAppliedAsync(applied, stoppingToken);
                }
            }
            else if (result.Outcome == HandlerOutcome.Retry && !context.LastAttempt)
            {
                await RepublishAsync(publisher, queue.RetryQueue(attempt), delivery, attempt + 1, null, stoppingToken);
            }
            else
            {
                var reason = Truncate(result.Reason ?? "unknown");
                logger.LogError("Message {MessageId} ({Type}) dead-lettered after {Attempt} attempt(s): {Reason}", properties.MessageId, type, attempt, reason);
                await RepublishAsync(publisher, queue.DeadLetterQueue, delivery, attempt, reason, stoppingToken);
                if (outboxId is { } failed)
                {
                    await MarkDeadLetteredAsync(failed, stoppingToken);
                }
            }

            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // Could not record the outcome: hand the delivery back so it is tried again (or redelivered after a reconnect).
            logger.LogWarning(e, "Could not settle message {MessageId} ({Type}); requeueing", properties.MessageId, type);
            if (channel.IsOpen)
            {
                await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
            }
        }
    }

    private async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var handler = scope.ServiceProvider.GetKeyedService<IMessageHandler>(context.Type);
        if (handler is null)
        {
            return HandlerResult.Reject($"No handler for message type '{context.Type}'.");
        }

        if (context.TenantId is { } tenant)
        {
            scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(tenant);
        }

        return await handler.HandleAsync(body, context, stoppingToken);
    }

    /// <summary>
    /// What marks an outbox row applied, for every consumer that does (SQL SET list): also sent, if the relay has not
    /// marked it yet — the relay skips rows a consumer holds locked, and must not publish an applied row again (ADR 9).
    /// </summary>
    internal const string MarkAppliedSet = "applied_at = clock_timestamp(), sent_at = coalesce(sent_at, clock_timestamp())";

    private async Task MarkAppliedAsync(long outboxId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"UPDATE outbox_messages SET {MarkAppliedSet} WHERE id = @id AND applied_at IS NULL");
        command.Parameters.AddWithValue("id", outboxId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task MarkDeadLetteredAsync(long outboxId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE outbox_messages SET dead_lettered_at = clock_timestamp() WHERE id = @id AND applied_at IS NULL");
        command.Parameters.AddWithValue("id", outboxId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task RepublishAsync(IChannel publisher, string targetQueue, BasicDeliverEventArgs delivery, int attempt, string? reason, CancellationToken cancellationToken)
    {
        var source = delivery.BasicProperties;
        var headers = source.Headers is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(source.Headers);
        headers[Topology.AttemptHeader] = attempt;
        headers["x-connectapp-routing-key"] = delivery.RoutingKey;
        if (reason is not null)
        {
            headers[Topology.ReasonHeader] = reason;
        }

        var properties = new BasicProperties
        {
            Persistent = true,
            MessageId = source.MessageId,
            Type = source.Type ?? delivery.RoutingKey,
            ContentType = source.ContentType,
            Timestamp = source.Timestamp,
            Headers = headers,
        };

        // Straight to the queue through the default exchange; confirmed before the original is acked.
        await publisher.BasicPublishAsync(string.Empty, targetQueue, mandatory: true, properties, delivery.Body, cancellationToken);
    }

    private static int? ReadInt(IDictionary<string, object?>? headers, string key) =>
        headers?.TryGetValue(key, out var value) == true ? value switch
        {
            int i => i,
            long l => (int)l,
            byte[] bytes when int.TryParse(Encoding.UTF8.GetString(bytes), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        } : null;

    internal static string? ReadString(IDictionary<string, object?>? headers, string key) =>
        headers?.TryGetValue(key, out var value) == true ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            string s => s,
            _ => null,
        } : null;

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..497] + "...";
}
