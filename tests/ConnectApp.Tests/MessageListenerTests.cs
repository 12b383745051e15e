using System.Collections.Concurrent;
using System.Text;
using ConnectApp.Hosting;
using ConnectApp.Messaging;
using ConnectApp.Persistence;
using ConnectApp.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RabbitMQ.Client;

namespace ConnectApp.Tests;

/// <summary>
/// The listener's own rules, with a real broker (a vhost of this test) and a handler that fails on purpose: a handler
/// that asks for a retry gets its message again after the back-off, with the attempt counted; one that rejects sends
/// it to the dead-letter queue with its reason; the listener alone settles every delivery.
/// </summary>
public sealed class MessageListenerTests
{
    private const string FlakyType = "test.flaky.v1";

    [Fact]
    public async Task HandlerAskingForRetry_GetsTheMessageAgainAfterTheBackOff_ThenRejectGoesToTheDeadLetterQueueWithItsReason()
    {
        await using var broker = await TestBroker.CreateAsync();
        var queue = new QueueSpec("test.listener", [FlakyType], Prefetch: 4, Concurrency: 1);
        var handler = new FlakyHandler();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddPersistence(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["DATABASE_URL"] = DatabaseOptions.LocalDefault }).Build(), ProcessRole.Worker);
        services.AddMessaging(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["RABBITMQ_URL"] = broker.Url }).Build());
        services.AddKeyedSingleton<IMessageHandler>(FlakyType, handler);
        await using var provider = services.BuildServiceProvider();

        var rabbit = provider.GetRequiredService<RabbitMqConnection>();
        var connection = await rabbit.GetAsync(CancellationToken.None);
        await using (var setup = await connection.CreateChannelAsync())
        {
            await Topology.DeclareAsync(setup, CancellationToken.None); // the exchange
            await setup.QueueDeclareAsync(queue.Name, true, false, false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
            await setup.QueueDeclareAsync(queue.DeadLetterQueue, true, false, false, new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
            for (var i = 0; i < Topology.RetryDelays.Length; i++)
            {
                await setup.QueueDeclareAsync(queue.RetryQueue(i + 1), true, false, false, new Dictionary<string, object?>
                {
                    ["x-message-ttl"] = (int)Topology.RetryDelays[i].TotalMilliseconds,
                    ["x-dead-letter-exchange"] = string.Empty,
                    ["x-dead-letter-routing-key"] = queue.Name,
                });
            }

            await setup.QueueBindAsync(queue.Name, Topology.Exchange, FlakyType);
        }

        var listener = new MessageListener(queue, provider.GetRequiredService<IServiceScopeFactory>(), rabbit, provider.GetRequiredService<Npgsql.NpgsqlDataSource>(), NullLogger<MessageListener>.Instance);
        await listener.StartAsync(CancellationToken.None);
        try
        {
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
            await channel.BasicPublishAsync(Topology.Exchange, FlakyType, true, new BasicProperties { Type = FlakyType, MessageId = "retry-then-ok" }, Encoding.UTF8.GetBytes("retry-twice"));
            await channel.BasicPublishAsync(Topology.Exchange, FlakyType, true, new BasicProperties { Type = FlakyType, MessageId = "poison" }, Encoding.UTF8.GetBytes("reject"));

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (handler.Attempts("retry-twice").Count < 3 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            // Attempt 1 at once, attempt 2 after the first back-off (1 s), attempt 3 after the second (5 s); then success.
            var attempts = handler.Attempts("retry-twice");
            Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt).ToList());
            Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromSeconds(0.9), "first back-off");
            Assert.True(attempts[2].At - attempts[1].At >= TimeSpan.FromSeconds(4.5), "second back-off");
            Assert.Single(handler.Attempts("reject"));

            var dead = await channel.BasicGetAsync(queue.DeadLetterQueue, autoAck: true);
            Assert.NotNull(dead);
            Assert.Equal("poison", dead!.BasicProperties.MessageId);
            Assert.Equal("not today", MessageListener.ReadString(dead.BasicProperties.Headers, Topology.ReasonHeader));
            Assert.Null(await channel.BasicGetAsync(queue.DeadLetterQueue, autoAck: true)); // the retried one succeeded, it is not there
            Assert.Equal(0u, await channel.MessageCountAsync(queue.Name));
        }
        finally
        {
            await listener.StopAsync(CancellationToken.None);
            listener.Dispose();
        }
    }

    private sealed class FlakyHandler : IMessageHandler
    {
        private readonly ConcurrentDictionary<string, List<(int Attempt, DateTime At)>> _seen = new();

        public List<(int Attempt, DateTime At)> Attempts(string body)
        {
            var list = _seen.GetOrAdd(body, _ => []);
            lock (list)
            {
                return [.. list];
            }
        }

        public Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
        {
            var text = Encoding.UTF8.GetString(body.Span);
            var list = _seen.GetOrAdd(text, _ => []);
            lock (list)
            {
                list.Add((context.Attempt, DateTime.UtcNow));
            }

            return Task.FromResult(text switch
            {
                "retry-twice" when context.Attempt <= 2 => HandlerResult.Retry("not yet"),
                "reject" => HandlerResult.Reject("not today"),
                _ => HandlerResult.Success,
            });
        }
    }
}
