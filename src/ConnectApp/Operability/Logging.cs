using Serilog;
using Serilog.Events;

namespace ConnectApp.Operability;

/// <summary>JSON logs to stdout (Heroku's log router reads them), redacted by <see cref="RedactingFormatter"/>.</summary>
internal static class Logging
{
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
            .WriteTo.Console(RedactingFormatter.Create());
        if (configuration["LOG_FILE"] is { Length: > 0 } file)
        {
            // Used by the test run: one file for the whole run, grepped for leaked secrets afterwards.
            log.WriteTo.File(RedactingFormatter.Create(), file, shared: true);
        }

        _ = services;
    }
}
