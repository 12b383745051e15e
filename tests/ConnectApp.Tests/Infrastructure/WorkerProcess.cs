using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ConnectApp.Tests.Infrastructure;

/// <summary>The app's own executable started in the <c>worker</c> role as a separate process, so a test can SIGKILL it.</summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public static WorkerProcess Start(string databaseUrl, string rabbitMqUrl, string secretsKey, IReadOnlyDictionary<string, string>? environment = null)
    {
        // The build output of the app project beside this test project's (same configuration and framework).
        var testBin = AppContext.BaseDirectory.TrimEnd('/');
        var framework = Path.GetFileName(testBin);
        var configuration = Path.GetFileName(Path.GetDirectoryName(testBin)!);
        var dll = Path.Combine(ConnectTesting.AtlassianJwtOracle.RepositoryRoot(), "src", "ConnectApp", "bin", configuration, framework, "ConnectApp.dll");
        var info = new ProcessStartInfo("dotnet", $"\"{dll}\" worker")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["DATABASE_URL"] = databaseUrl;
        info.Environment["RABBITMQ_URL"] = rabbitMqUrl;
        info.Environment["SECRETS_KEY"] = secretsKey;
        info.Environment["PORT"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["ELASTICSEARCH_URL"] = string.Empty;
        info.Environment["BONSAI_URL"] = string.Empty;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["LOG_FILE"] = Path.Combine(TestLog.Directory, "worker-log.jsonl"); // for a failure's post-mortem
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process);
    }

    /// <summary>SIGKILL: no shutdown, no nack, no flush; unacked deliveries go back to the queue when the broker notices.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
