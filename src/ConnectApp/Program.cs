using ConnectApp.Api;
using ConnectApp.ApiTokens;
using ConnectApp.Audit;
using ConnectApp.Csv;
using ConnectApp.Descriptor;
using ConnectApp.Export;
using ConnectApp.Fields;
using ConnectApp.Hosting;
using ConnectApp.Identity;
using ConnectApp.Jira;
using ConnectApp.Jql;
using ConnectApp.Licensing;
using ConnectApp.Memberships;
using ConnectApp.Messaging;
using ConnectApp.Operability;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Records;
using ConnectApp.Retention;
using ConnectApp.Roles;
using ConnectApp.Search;
using ConnectApp.Secrets;
using ConnectApp.Sync;
using ConnectApp.Tenants;
using ConnectApp.Views;
using ConnectApp.Webhooks;

// The table of contents: one line per feature folder (docs/adr/0007 gives their order). Each folder's
// XxxFeature.cs is its whole public surface: AddXxx() here, UseXxx() in the pipeline, MapXxxEndpoints() below.
if (!ProcessRoles.TryParse(args, out var role))
{
    Console.Error.WriteLine("ConnectApp: unknown role; usage: ConnectApp [all|web|worker|migrate|reindex [all|<tenant id>|<clientKey>]|rotate-secrets]");
    return 2;
}

var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args.Where(a => a.StartsWith('-')).ToArray(),
    ContentRootPath = AppContext.BaseDirectory, // wwwroot and the descriptor template sit beside the binary, wherever it is started from
});
var configuration = builder.Configuration;
builder.UseProcessRole(role);

builder.Services
    .AddOperability(configuration)
    .AddFrontendFiles()
    .AddProblems()
    .AddApi()
    .AddSecrets(configuration)
    .AddPersistence(configuration, role)
    .AddMessaging(configuration)
    .AddTenants(configuration)
    .AddJira()
    .AddRoles()
    .AddLicensing(configuration)
    .AddDescriptor()
    .AddAudit()
    .AddFields()
    .AddRecords(configuration)
    .AddOutbox(configuration, role)
    .AddSearch(configuration)
    .AddMemberships()
    .AddSync(configuration)
    .AddApiTokens(configuration)
    .AddCsv()
    .AddRetention(configuration, role)
    .AddJql()
    .AddWebhooks(configuration)
    .WithoutDataProtectionAtStartup();

// Disposed at every exit, so the batched log (Operability) is flushed by the command roles too.
await using var app = builder.Build();

if (ValidatedOptions.FindConfigurationError(app.Services) is { } error)
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

if (role == ProcessRole.Reindex)
{
    return await ReindexCommand.RunAsync(app.Services, args.Where(a => !a.StartsWith('-')).Skip(1).FirstOrDefault() ?? "all", CancellationToken.None);
}

if (role == ProcessRole.RotateSecrets)
{
    return await SecretRotation.RunAsync(app.Services, CancellationToken.None);
}

app.UseForwardedHeaders();
app.UseRequestLogging();
app.UseProblems();
if (!app.Environment.IsDevelopment())
{
    app.UseHsts();
}

app.UseSecurityHeaders();
if (role.RunsWeb())
{
    app.UseFrontendFiles(); // iframe pages: hashed assets cached for a year, pages revalidated
}

app.UseRouting();
app.UseMethodNotAllowed();
app.UseAuthentication();
app.UseTenantScope();
app.UseApiTokens();
app.UseAuthorization();
app.UseLicensing();
app.UseInputGuard();

app.MapHealthEndpoints();
if (role.RunsWeb())
{
    app.MapOpenApi().AllowAnonymous();
    app.MapDescriptorEndpoints();
    app.MapTenantEndpoints();
    app.MapWebhookEndpoints();

    var api = app.MapApiGroup();
    api.MapIdentityEndpoints();
    api.MapFieldsEndpoints();
    api.MapRecordsEndpoints();
    api.MapApiTokenEndpoints();
    api.MapCsvEndpoints();
    api.MapSearchEndpoints();
    api.MapViewsEndpoints();
    api.MapExportEndpoints();
    api.MapRetentionEndpoints();
    api.MapSyncEndpoints();
    api.MapMembershipsEndpoints();
}

await app.RunAsync();
return 0;

/// <summary>The entry point; public so tests can host it with WebApplicationFactory.</summary>
public partial class Program;
