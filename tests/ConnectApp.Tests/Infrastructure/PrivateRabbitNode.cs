using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ConnectApp.Tests.Infrastructure;

/// <summary>
/// A RabbitMQ node of this test's own (own node name, AMQP and distribution ports, data and log directories, no
/// management plugin), so a test can stop and start "the broker" without touching the shared one that other test
/// runs use. Runs as the rabbitmq user with HOME=/var/lib/rabbitmq (the Erlang cookie the CLI shares).
/// </summary>
public sealed class PrivateRabbitNode : IAsyncDisposable
{
    private const string Home = "/var/lib/rabbitmq";
    private readonly string _dir;
    private readonly Process _server;

    private PrivateRabbitNode(string dir, string node, int port, Process server)
    {
        _dir = dir;
        Node = node;
        Port = port;
        _server = server;
    }

    public string Node { get; }

    public int Port { get; }

    public string Url => $"amqp://guest:guest@127.0.0.1:{Port}/";

    public static async Task<PrivateRabbitNode> StartAsync()
    {
        var id = Guid.NewGuid().ToString("N")[..8];
        var node = $"cafault{id}@localhost";
        var port = FreePort();
        var dir = Path.Combine(Path.GetTempPath(), "connectapp-rmq-" + id);
        Directory.CreateDirectory(Path.Combine(dir, "mnesia"));
        Directory.CreateDirectory(Path.Combine(dir, "log"));
        await File.WriteAllTextAsync(Path.Combine(dir, "enabled_plugins"), "[].\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "rabbitmq.conf"), "loopback_users = none\n");
        await RunAsync("chown", $"-R rabbitmq:rabbitmq {dir}");

        var start = Start(node, port, dir, "/usr/lib/rabbitmq/bin/rabbitmq-server", string.Empty);
        var rabbit = new PrivateRabbitNode(dir, node, port, start);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await rabbit.CtlAsync("await_startup --timeout 5") != 0)
        {
            if (DateTime.UtcNow > deadline || start.HasExited)
            {
                await rabbit.DisposeAsync();
                throw new InvalidOperationException($"private RabbitMQ node {node} did not start");
            }

            await Task.Delay(500);
        }

        return rabbit;
    }

    /// <summary>Stops the broker application (every connection drops; queues and persistent messages stay on disk).</summary>
    public async Task StopAsync() => Assert.Equal(0, await CtlAsync("stop_app"));

    public async Task StartAgainAsync()
    {
        Assert.Equal(0, await CtlAsync("start_app"));
        Assert.Equal(0, await CtlAsync("await_startup --timeout 30"));
    }

    public async ValueTask DisposeAsync()
    {
        await CtlAsync("stop");
        if (!_server.HasExited)
        {
            _server.Kill(entireProcessTree: true);
        }

        _server.Dispose();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // left for the OS's temp cleanup
        }
    }

    private Task<int> CtlAsync(string arguments) => WaitAsync(Start(Node, Port, _dir, "/usr/lib/rabbitmq/bin/rabbitmqctl", $"-n {Node} {arguments}"));

    private static Process Start(string node, int port, string dir, string program, string arguments)
    {
        var info = new ProcessStartInfo("setpriv", $"--reuid=rabbitmq --regid=rabbitmq --init-groups {program} {arguments}")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["HOME"] = Home;
        info.Environment["RABBITMQ_NODENAME"] = node;
        info.Environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        info.Environment["RABBITMQ_NODE_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["RABBITMQ_DIST_PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(dir, "rabbitmq.conf");
        info.Environment["RABBITMQ_MNESIA_BASE"] = Path.Combine(dir, "mnesia");
        info.Environment["RABBITMQ_LOG_BASE"] = Path.Combine(dir, "log");
        info.Environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(dir, "enabled_plugins");
        info.Environment["RABBITMQ_PID_FILE"] = Path.Combine(dir, "rabbit.pid");
        info.Environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<int> WaitAsync(Process process)
    {
        using (process)
        {
            await process.WaitForExitAsync();
            return process.ExitCode;
        }
    }

    private static async Task RunAsync(string program, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { UseShellExecute = false })!;
        await process.WaitForExitAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
