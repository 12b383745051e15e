using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace ConnectApp.Messaging;

/// <summary>Where the broker is: <c>RABBITMQ_URL</c>, else <c>CLOUDAMQP_URL</c> (the Heroku add-on).</summary>
internal sealed class RabbitMqOptions
{
    public const string LocalDefault = "amqp://guest:guest@127.0.0.1:5672/";

    public string Url { get; set; } = LocalDefault;
}

internal sealed class RabbitMqOptionsValidator : IValidateOptions<RabbitMqOptions>
{
    public ValidateOptionsResult Validate(string? name, RabbitMqOptions options) =>
        Uri.TryCreate(options.Url, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps"
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("RABBITMQ_URL is malformed: expected amqp://user:password@host:port/vhost.");
}

/// <summary>One long-lived broker connection per process (channels are cheap, connections are not).</summary>
internal sealed class RabbitMqConnection(IOptions<RabbitMqOptions> options) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true } open)
        {
            return open;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { IsOpen: true } again)
            {
                return again;
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }

            var factory = new ConnectionFactory
            {
                Uri = new Uri(options.Value.Url),
                ClientProvidedName = "connectapp",
                AutomaticRecoveryEnabled = true,
                RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
            };
            _connection = await factory.CreateConnectionAsync(cancellationToken);
            return _connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _gate.Dispose();
    }
}
