using Serilog;
using Serilog.Configuration;
using Serilog.Events;

namespace ConnectApp.Operability;

/// <summary>JSON logs to stdout (Heroku's log router reads them), redacted by <see cref="RedactingFormatter"/>.</summary>
internal static class Logging
{
    /// <summary>How long a log line may wait in the queue before it is written to stdout.</summary>
    public static readonly TimeSpan BufferingTimeLimit = TimeSpan.FromMilliseconds(100);

    public static void Configure(LoggerConfiguration log, IConfiguration configuration, IServiceProvider services)
    {
        log.MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Extensions.Http", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            // The migrator probes for its history table by querying it; on a new database that logs a failed command.
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore.Database.Command", configuration["CONNECTAPP_ROLE"] == "Migrate" ? LogEventLevel.Fatal : LogEventLevel.Error)
            .Enrich.FromLogContext()
            .Enrich.With<RedactingEnricher>()
            // Batched off the request thread (StdoutBatchSink); a full queue (a burst of 100,000 lines not yet written)
            // drops lines rather than grow without bound or stall requests.
            .WriteTo.Sink(new StdoutBatchSink(RedactingFormatter.Create()), new BatchingOptions
            {
                BatchSizeLimit = 1000,
                BufferingTimeLimit = BufferingTimeLimit,
                EagerlyEmitFirstEvent = true,
                QueueLimit = 100_000,
            });
        if (configuration["LOG_FILE"] is { Length: > 0 } file)
        {
            // Used by the test run: one file for the whole run, grepped for leaked secrets afterwards.
            log.WriteTo.File(RedactingFormatter.Create(), file, shared: true);
        }

        _ = services;
    }
}
