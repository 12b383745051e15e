using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ConnectApp.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of a test's own (initdb in a temporary directory, its own loopback port), so an outage test
/// can stop and start a real server by its PID without touching the one every other test uses.
/// </summary>
internal sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _dir;
    private readonly string _bin;

    private PrivatePostgres(string dir, string bin, int port)
    {
        _dir = dir;
        _bin = bin;
        Port = port;
    }

    public int Port { get; }

    /// <summary>DATABASE_URL of the app's database on this server (a non-superuser, so row-level security applies).</summary>
    public string Url => $"postgres://app:app_pw@127.0.0.1:{Port}/appdb";

    public static async Task<PrivatePostgres> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(Directory.Exists).Order(StringComparer.Ordinal).Last();
        var dir = Path.Combine(Path.GetTempPath(), "connectapp-pg-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        await RunAsync("chown", "postgres:postgres", dir);
        var server = new PrivatePostgres(dir, bin, FreePort());
        await server.AsPostgresAsync("initdb", "-D", server.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8");
        await server.StartServerAsync();
        await server.PsqlAsync("CREATE ROLE app LOGIN NOSUPERUSER PASSWORD 'app_pw'");
        await server.PsqlAsync("CREATE DATABASE appdb OWNER app");
        await server.PsqlAsync("CREATE EXTENSION IF NOT EXISTS pg_trgm", "appdb");
        return server;
    }

    private string Data => Path.Combine(_dir, "data");

    // fsync off (a process stop, not a machine crash, is what the tests cause); synchronous_commit stays on, so what the
    // app saw committed survives the immediate stop.
    public Task StartServerAsync() => AsPostgresAsync(
        "pg_ctl", "-D", Data, "-l", Path.Combine(_dir, "postgres.log"), "-w", "-t", "60", "start",
        "-o", $"-c listen_addresses=127.0.0.1 -c port={Port} -c unix_socket_directories={_dir} -c fsync=off");

    /// <summary>Stops the server at once (pg_ctl signals the postmaster by the PID in its postmaster.pid; immediate mode): connections drop mid-flight.</summary>
    public async Task StopServerAsync()
    {
        await AsPostgresAsync("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");
        using var probe = new TcpClient();
        await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, Port)); // nothing listens any more
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await AsPostgresAsync("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }

        Directory.Delete(_dir, recursive: true);
    }

    private Task PsqlAsync(string sql, string database = "postgres") =>
        AsPostgresAsync("psql", "-h", _dir, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAtc", sql);

    private Task AsPostgresAsync(string tool, params string[] args) =>
        RunAsync("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", Path.Combine(_bin, tool), .. args], _dir);

    private static async Task RunAsync(string file, string[] args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "/" };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(args.Length > 3 ? args[3] : file)} exited {process.ExitCode}: {await error}{await output}");
        }
    }

    private static Task RunAsync(string file, params string[] args) => RunAsync(file, args, null);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
