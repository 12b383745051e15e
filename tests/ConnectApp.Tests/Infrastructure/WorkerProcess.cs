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

    /// <summary>The build output of the app project beside this test project's (same configuration and framework).</summary>
    public static string AppDll
    {
        get
        {
            var testBin = AppContext.BaseDirectory.TrimEnd('/');
            var framework = Path.GetFileName(testBin);
            var configuration = Path.GetFileName(Path.GetDirectoryName(testBin)!);
            return Path.Combine(ConnectTesting.AtlassianJwtOracle.RepositoryRoot(), "src", "ConnectApp", "bin", configuration, framework, "ConnectApp.dll");
        }
    }

    /// <summary>Runs the app's executable in a command role (migrate, reindex, rotate-secrets) to its end: exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunCommandAsync(string arguments, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet", $"\"{AppDll}\" {arguments}")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["ELASTICSEARCH_URL"] = string.Empty;
        info.Environment["BONSAI_URL"] = string.Empty;
        info.Environment["SYNC_INTERVAL_MINUTES"] = "0"; // no scheduled syncs in tests unless one asks (they would change tenants' rows)
        info.Environment["LOG_FILE"] = Path.Combine(TestLog.Directory, "command-log.jsonl");
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The port a <c>web</c> or <c>all</c> process listens on (on loopback); a worker binds none.</summary>
    public int Port { get; private init; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    /// <summary>Starts the app's executable in <paramref name="role"/> (<c>worker</c> by default); <paramref name="environment"/> adds or overrides settings.</summary>
    public static WorkerProcess Start(string databaseUrl, string rabbitMqUrl, string secretsKey, string role = "worker", IReadOnlyDictionary<string, string>? environment = null)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet", $"\"{AppDll}\" {role}")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment["DATABASE_URL"] = databaseUrl;
        info.Environment["RABBITMQ_URL"] = rabbitMqUrl;
        info.Environment["SECRETS_KEY"] = secretsKey;
        info.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["ELASTICSEARCH_URL"] = string.Empty;
        info.Environment["SYNC_INTERVAL_MINUTES"] = "0";
        info.Environment["BONSAI_URL"] = string.Empty;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["LOG_FILE"] = Path.Combine(TestLog.Directory, $"{role}-log.jsonl"); // for a failure's post-mortem
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process) { Port = port };
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
