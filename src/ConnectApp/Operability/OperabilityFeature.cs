using System.Text.Json;
using ConnectApp.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Serilog;

namespace ConnectApp.Operability;

/// <summary>
/// What operators see: the redacted JSON log (Serilog), one line per request, the health endpoints, and the
/// security headers every response carries.
/// </summary>
internal static class OperabilityFeature
{
    public static IServiceCollection AddOperability(this IServiceCollection services, IConfiguration configuration)
    {
        // preserveStaticLogger: each host keeps its own logger (tests run several hosts in one process), and nothing
        // in the app logs through the static Log.
        services.AddSerilog((sp, log) => Logging.Configure(log, configuration, sp), preserveStaticLogger: true);
        services.AddHealthChecks(); // each feature that depends on a service adds its check, tagged HealthTags.Ready
        return services;
    }

    /// <summary>Outermost: the request log line (outside the exception handler, so handled problems log their real status).</summary>
    public static IApplicationBuilder UseRequestLogging(this IApplicationBuilder app) =>
        app.UseSerilogRequestLogging(o => o.Logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>());

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.UseMiddleware<SecurityHeaders>();

    /// <summary><c>/health/live</c>: the process answers. <c>/health/ready</c>: PostgreSQL and RabbitMQ answer too.</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(HealthTags.Ready), ResponseWriter = WriteAsync }).AllowAnonymous();
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description,
                data = e.Value.Data.Count > 0 ? e.Value.Data : null, // a check's figures for operators (retention: scheduled and last purges)
            }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, JsonSerializerOptions.Web));
    }
}
