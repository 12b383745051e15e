using AtlassianConnect;
using ConnectApp.ApiTokens;
using ConnectApp.Audit;
using ConnectApp.Csv;
using ConnectApp.Descriptor;
using ConnectApp.Fields;
using ConnectApp.Hosting;
using ConnectApp.Identity;
using ConnectApp.Jobs;
using ConnectApp.Messaging;
using ConnectApp.Operability;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Records;
using ConnectApp.Roles;
using ConnectApp.Secrets;
using ConnectApp.Tenants;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using Serilog;

if (!ProcessRoles.TryParse(args, out var role))
{
    Console.Error.WriteLine("ConnectApp: unknown role; usage: ConnectApp [all|web|worker|migrate]");
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args.Where(a => a.StartsWith('-')).ToArray(),
    ContentRootPath = AppContext.BaseDirectory, // wwwroot and the descriptor template sit beside the binary, wherever it is started from
});
var configuration = builder.Configuration;
configuration["CONNECTAPP_ROLE"] = role.ToString();
if (configuration["ASPNETCORE_URLS"] is null && configuration["urls"] is null)
{
    var host = configuration["DYNO"] is null ? "127.0.0.1" : "0.0.0.0";
    builder.WebHost.UseUrls($"http://{host}:{AppConfiguration.Port(configuration)}");
}

builder.Services.AddSerilog((services, log) => Logging.Configure(log, configuration, services));
builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions["traceId"] = c.HttpContext.TraceIdentifier);
builder.Services.Configure<ForwardedHeadersOptions>(o =>
{
    o.ForwardedHeaders = ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedFor;
    o.KnownIPNetworks.Clear(); // Heroku's router is the only way in
    o.KnownProxies.Clear();
});
builder.Services.AddOpenApi();
builder.Services.AddConnectOptions(configuration);
builder.Services.AddOptions<SecretsOptions>().Configure(o =>
{
    o.Key = configuration["SECRETS_KEY"];
    o.PreviousKey = configuration["SECRETS_KEY_PREVIOUS"];
}).ValidateOnStart();
builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<SecretsOptions>, SecretsOptionsValidator>();
builder.Services.AddSingleton<SecretProtector>();
builder.Services.AddPersistence(configuration);
builder.Services.AddMessaging(configuration);
builder.Services.AddHealth();
builder.Services.AddAtlassianConnect();
builder.Services.AddAuthorization(o => o.FallbackPolicy = o.DefaultPolicy); // fail closed: an endpoint is anonymous only when it says so
builder.Services.AddTenants();
builder.Services.AddDescriptor();
builder.Services.AddRoles();
builder.Services.AddFields();
builder.Services.AddRecords();
builder.Services.AddApiTokens(configuration);
builder.Services.AddJobs(role);
builder.Services.AddCsv();
builder.Services.AddExceptionHandler<AppProblemHandler>();
builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
// A body that does not bind (wrong JSON type, not JSON) throws, so AppProblemHandler answers it with code bad_request.
builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.KebabCaseLower, allowIntegerValues: false));
    o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
});

var app = builder.Build();

if (AppConfiguration.FindConfigurationError(app.Services,
        s => s.GetRequiredService<IOptions<ConnectOptions>>().Value,
        s => s.GetRequiredService<IOptions<SecretsOptions>>().Value,
        s => s.GetRequiredService<IOptions<DatabaseOptions>>().Value,
        s => s.GetRequiredService<IOptions<RabbitMqOptions>>().Value,
        s => s.GetRequiredService<IOptions<ApiTokenOptions>>().Value) is { } error)
{
    Console.Error.WriteLine($"ConnectApp: configuration error: {error}");
    return 1;
}

if (role == ProcessRole.Migrate)
{
    await PersistenceFeature.MigrateAsync(app.Services, CancellationToken.None);
    Console.WriteLine("ConnectApp: database migrated");
    return 0;
}

app.UseForwardedHeaders();
app.UseSerilogRequestLogging(); // outside the exception handler, so handled problems log their real status, not 500
app.UseExceptionHandler(new ExceptionHandlerOptions
{
    StatusCodeSelector = e => e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
});
app.UseStatusCodePages();
if (!app.Environment.IsDevelopment())
{
    app.UseHsts();
}

app.UseMiddleware<SecurityHeaders>();
if (role.RunsWeb())
{
    app.UseFrontendFiles(); // iframe pages: hashed assets cached for a year, pages revalidated
}

app.UseRouting();
app.UseAuthentication();
app.UseTenantScope();
app.UseApiTokens();
app.UseAuthorization();

app.MapHealthEndpoints();
if (role.RunsWeb())
{
    app.MapOpenApi().AllowAnonymous();
    app.MapDescriptorEndpoints();
    app.MapTenantEndpoints();

    // The app's API: called by the iframe SPA with context tokens (AP.context.getToken()), so they are accepted here;
    // integrations call it with API tokens, limited to what ApiTokenScopes allows.
    var api = app.MapGroup("/api").WithMetadata(new AtlassianConnect.Authentication.AllowContextTokenAttribute());
    api.MapWhoAmIEndpoints();
    api.MapFieldsEndpoints();
    api.MapRecordsEndpoints();
    api.MapAuditEndpoints();
    api.MapIssuePanelEndpoints();
    api.MapPortalEndpoints();
    api.MapApiTokenEndpoints();
    api.MapCsvEndpoints();
}

await app.RunAsync();
return 0;

/// <summary>The entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
