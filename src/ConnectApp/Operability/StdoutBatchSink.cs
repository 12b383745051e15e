using System.Buffers;
using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace ConnectApp.Operability;

/// <summary>
/// The JSON log to stdout off the request path: Serilog's batching queues each event (the request thread only enqueues),
/// and this writes a batch as one <c>write</c> to stdout. The synchronous console sink wrote every line from the request
/// thread under a lock, through Console's 256-byte buffer: a fifth of <c>/api/whoami</c>'s CPU under load (perf,
/// 2026-11-24). A line reaches stdout at most <see cref="Logging.BufferingTimeLimit"/> after it is logged; the host
/// flushes what is queued when it stops (the logger is disposed with it).
/// </summary>
internal sealed class StdoutBatchSink(ITextFormatter formatter, Stream output) : IBatchedLogEventSink, IDisposable
{
    // Several hosts in one process (tests) share the process's stdout: one batch is written whole before another.
    private static readonly Lock StdoutLock = new();

    private static readonly Lazy<Stream> Stdout = new(Console.OpenStandardOutput);

    private readonly StringWriter _text = new(CultureInfo.InvariantCulture);

    public StdoutBatchSink(ITextFormatter formatter)
        : this(formatter, Stdout.Value)
    {
    }

    public Task EmitBatchAsync(IReadOnlyCollection<LogEvent> batch)
    {
        var text = _text.GetStringBuilder();
        text.Clear();
        foreach (var logEvent in batch)
        {
            formatter.Format(logEvent, _text);
        }

        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        try
        {
            var length = 0;
            foreach (var chunk in text.GetChunks())
            {
                length += Encoding.UTF8.GetBytes(chunk.Span, bytes.AsSpan(length));
            }

            lock (StdoutLock)
            {
                output.Write(bytes, 0, length);
                output.Flush();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            if (text.Capacity > 1024 * 1024)
            {
                text.Capacity = 64 * 1024; // a burst's batch is not kept for ever
            }
        }

        return Task.CompletedTask;
    }

    public Task OnEmptyBatchAsync() => Task.CompletedTask;

    /// <summary>After the last batch (the batching sink disposes its target when the logger is disposed); stdout stays open.</summary>
    public void Dispose() => _text.Dispose();
}
