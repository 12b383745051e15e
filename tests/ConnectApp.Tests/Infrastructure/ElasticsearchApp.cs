namespace ConnectApp.Tests.Infrastructure;

/// <summary>
/// A second app for the search conformance suite, searching with Elasticsearch at <c>ELASTICSEARCH_URL</c> (its own
/// database, RabbitMQ vhost and index alias). Started only when that variable is set; otherwise the Elasticsearch rows
/// of the suite are skipped (see ElasticsearchEngineAttribute) and this does nothing.
/// </summary>
public sealed class ElasticsearchApp : IAsyncLifetime
{
    public ConnectAppFixture? App { get; private set; }

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable("ELASTICSEARCH_URL") is { Length: > 0 } url)
        {
            App = new ConnectAppFixture(url);
            await App.InitializeAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }
}
