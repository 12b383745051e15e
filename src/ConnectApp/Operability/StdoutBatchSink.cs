using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace ConnectApp.Operability;

/// <summary>
/// The JSON log to stdout off the request path: Serilog's batching queues each event (the request thread only enqueues),
/// and this writes a batch to stdout in 32 KB writes. The synchronous console sink wrote every line from the request
/// thread under a lock, through Console's 256-byte buffer: a fifth of <c>/api/whoami</c>'s CPU under load (perf,
/// 2026-11-24). A line reaches stdout at most <see cref="Logging.BufferingTimeLimit"/> after it is logged; the host
/// flushes what is queued when it stops (the logger is disposed with it).
/// </summary>
internal sealed class StdoutBatchSink(ITextFormatter formatter, Stream output) : IBatchedLogEventSink, IDisposable
{
    // Several hosts in one process (tests) share the process's stdout: one batch is written whole before another.
    private static readonly Lock StdoutLock = new();

    private static readonly Lazy<Stream> Stdout = new(Console.OpenStandardOutput);

    // The batch is encoded straight into a fixed 32 KB buffer and written as it fills, so the sink's memory does not
    // grow with the batch. Before, a batch of 1,000 lines was built as one string and encoded into one array rented from
    // the shared pool: about 2 MB, which each thread-pool thread that ran a batch then kept in its own pool cache (22 MB
    // of the web process's large-object heap after a minute of /api/whoami at 50 connections, 2026-11-24).
    private readonly StreamWriter _writer = new(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true)
    {
        AutoFlush = false,
    };

    public StdoutBatchSink(ITextFormatter formatter)
        : this(formatter, Stdout.Value)
    {
    }

    public Task EmitBatchAsync(IReadOnlyCollection<LogEvent> batch)
    {
        lock (StdoutLock)
        {
            foreach (var logEvent in batch)
            {
                formatter.Format(logEvent, _writer);
            }

            _writer.Flush();
        }

        return Task.CompletedTask;
    }

    public Task OnEmptyBatchAsync() => Task.CompletedTask;

    /// <summary>After the last batch (the batching sink disposes its target when the logger is disposed); stdout stays open.</summary>
    public void Dispose() => _writer.Dispose();
}
