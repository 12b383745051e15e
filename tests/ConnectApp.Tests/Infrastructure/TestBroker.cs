using System.Net.Http.Headers;
using System.Text;

namespace ConnectApp.Tests.Infrastructure;

/// <summary>
/// A RabbitMQ virtual host of its own for one test run, on the shared broker (scripts/services.sh): other worktrees'
/// test runs use the same server at the same time, and a vhost keeps every exchange and queue apart. Made and removed
/// through the management API (guest/guest on :15672).
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    private static readonly Uri Management = new(Environment.GetEnvironmentVariable("TEST_RABBITMQ_MANAGEMENT_URL") ?? "http://127.0.0.1:15672/");
    private readonly HttpClient _http;

    private TestBroker(HttpClient http, string vhost)
    {
        _http = http;
        VirtualHost = vhost;
    }

    public string VirtualHost { get; }

    /// <summary>The RABBITMQ_URL of this vhost.</summary>
    public string Url => "amqp://guest:guest@127.0.0.1:5672/" + Uri.EscapeDataString(VirtualHost);

    public static async Task<TestBroker> CreateAsync()
    {
        var http = new HttpClient { BaseAddress = Management };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("guest:guest")));
        var vhost = "connectapp-test-" + Guid.NewGuid().ToString("N")[..12];
        (await http.PutAsync($"api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await http.PutAsync($"api/permissions/{vhost}/guest", new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return new TestBroker(http, vhost);
    }

    /// <summary>How many messages a queue of this vhost holds (ready + unacked), from the management API (updated every few seconds).</summary>
    public async Task<System.Text.Json.Nodes.JsonObject?> QueueAsync(string queue)
    {
        using var response = await _http.GetAsync($"api/queues/{VirtualHost}/{Uri.EscapeDataString(queue)}");
        return response.IsSuccessStatusCode ? System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject() : null;
    }

    public async ValueTask DisposeAsync()
    {
        using var _ = await _http.DeleteAsync($"api/vhosts/{VirtualHost}");
        _http.Dispose();
    }
}
