using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace JiraSimulator;

/// <summary>
/// A local Jira Cloud for development and tests: the install key server, sites that install the app with
/// signed callbacks, and (per site, under /site/{name}) the REST endpoints the app calls. A dev tool on
/// loopback: its admin endpoints have no authentication.
/// </summary>
public sealed class SimulatorProgram
{
    public static async Task Main(string[] args)
    {
        var app = Build(args);
        await app.RunAsync();
    }

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var port = builder.Configuration["SIMULATOR_PORT"] ?? "8090";
        if (builder.Configuration["ASPNETCORE_URLS"] is null && builder.Configuration["urls"] is null)
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        }

        builder.Services.AddSingleton<InstallKeyServer>();
        builder.Services.AddSingleton<ForgePlatform>();
        builder.Services.AddSingleton(sp => new ConnectAppInstaller(sp.GetRequiredService<InstallKeyServer>()));
        builder.Services.AddSingleton<SiteDirectory>();
        builder.Services.AddHttpClient("app", (sp, c) =>
            c.BaseAddress = new Uri((sp.GetRequiredService<IConfiguration>()["APP_URL"] ?? "http://127.0.0.1:8080").TrimEnd('/') + "/"));
        var app = builder.Build();
        app.UseSiteHosts();
        app.UseRouting(); // after the host rewrite, so /site/{name} routes match
        app.MapSimulatorEndpoints();
        return app;
    }
}

/// <summary>The simulator's HTTP surface.</summary>
public static class SimulatorEndpoints
{
    public static IEndpointRouteBuilder MapSimulatorEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/connect-install-keys/{**kid}", (string kid, InstallKeyServer keys) =>
            keys.PublicPem(kid) is { } pem ? Results.Text(pem, "application/x-pem-file") : Results.NotFound());

        app.MapGet("/forge/.well-known/jwks.json", (ForgePlatform forge) => Results.Text(forge.Jwks(), "application/json"));
        app.MapGet("/admin/sites/{name}/forge-token", (string name, string? accountId, SiteDirectory sites, ForgePlatform forge) =>
            sites.Find(name) is { } site ? Results.Text(forge.Mint(new ForgePlatform.Invocation(site, accountId ?? "557058:simulated-agent"))) : Results.NotFound());
        app.MapGet("/admin/sites/{name}/forge-system-token", (string name, SiteDirectory sites) =>
            sites.Find(name) is { } site ? Results.Text(site.ForgeSystemToken) : Results.NotFound());

        // Forge calling the app as a remote (what invokeRemote does from a Forge module): GET the app's path with a
        // fresh invocation token and the app system token; answers with the app's status and body.
        app.MapGet("/admin/sites/{name}/forge-invoke", async (string name, string path, string? accountId, SiteDirectory sites, ForgePlatform forge, IHttpClientFactory clients, CancellationToken ct) =>
        {
            if (sites.Find(name) is not { } site || !path.StartsWith('/'))
            {
                return Results.NotFound();
            }

            using var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
            request.Headers.Authorization = new("Bearer", forge.Mint(new ForgePlatform.Invocation(site, accountId ?? "557058:simulated-agent")));
            request.Headers.Add("x-forge-oauth-system", site.ForgeSystemToken);
            using var response = await clients.CreateClient("app").SendAsync(request, ct);
            return Results.Text(await response.Content.ReadAsStringAsync(ct), response.Content.Headers.ContentType?.ToString(), statusCode: (int)response.StatusCode);
        });

        // Forge Remote calls back through Atlassian's API gateway: https://api.atlassian.com/ex/jira/{cloudId}/...
        // with the app system token as bearer. Routed here by path (in tests the app's HTTP client is this server).
        app.MapPost("/ex/jira/{cloudId:guid}/rest/api/3/permissions/check", (Guid cloudId, HttpContext context, SiteDirectory sites) =>
            sites.All.FirstOrDefault(s => s.CloudId == cloudId) is { } site
                ? PermissionsCheck.HandleForgeAsync(site, context)
                : Task.FromResult(Results.NotFound()));

        app.MapGet("/ex/jira/{cloudId:guid}/rest/servicedeskapi/servicedesk", (Guid cloudId, int? start, int? limit, HttpContext context, SiteDirectory sites) =>
            sites.All.FirstOrDefault(s => s.CloudId == cloudId) is { } site
                ? JsmApi.ForgeServiceDesksAsync(site, start, limit, context)
                : Task.FromResult(Results.NotFound()));

        // Atlassian's OAuth 2.0 authorization server (act-as-user grants); the app's CONNECT_OAUTH_URL points here.
        OAuthServer.Map(app);

        // Act-as-user faults of a site: refuse grants for an account (400/401/403; status 0 lifts it), answer the next n
        // grants with 429, change the lifetime of new tokens.
        app.MapPost("/admin/sites/{name}/act-as", (string name, string? refuse, int? status, int? throttle, int? lifetimeSeconds, SiteDirectory sites) =>
        {
            if (sites.Find(name) is not { } site)
            {
                return Results.NotFound();
            }

            if (!string.IsNullOrEmpty(refuse))
            {
                if (status is 0)
                {
                    site.ActAsUser.RefuseAccounts.TryRemove(refuse, out _);
                }
                else
                {
                    site.ActAsUser.RefuseAccounts[refuse] = status is 401 or 403 ? status.Value : 400;
                }
            }

            site.ActAsUser.Throttle = Math.Max(0, throttle ?? site.ActAsUser.Throttle);
            site.ActAsUser.Lifetime = lifetimeSeconds is > 0 ? TimeSpan.FromSeconds(lifetimeSeconds.Value) : site.ActAsUser.Lifetime;
            return Results.Ok(new { refused = site.ActAsUser.RefuseAccounts, throttle = site.ActAsUser.Throttle, lifetimeSeconds = (int)site.ActAsUser.Lifetime.TotalSeconds, granted = site.ActAsUser.Granted });
        });

        // Test and demo controls of a site's JSM directory: generate a large directory, inject faults.
        app.MapPost("/admin/sites/{name}/directory/generate", (string name, int? organizations, int? customers, int? seed, HttpContext context, SiteDirectory sites) =>
        {
            var site = sites.GetOrCreate(name, PublicBase(context));
            site.Directory.Generate(Math.Clamp(organizations ?? 25, 0, 10_000), Math.Clamp(customers ?? 100, 0, 1_000_000), seed ?? 9);
            return Results.Ok(new { organizations = site.Directory.OrganizationCount, customers = site.Directory.CustomerCount });
        });
        app.MapPost("/admin/sites/{name}/users", (string name, string accountId, string? role, SiteDirectory sites) =>
            sites.Find(name) is { } site && Enum.TryParse<SiteRole>(role ?? "Agent", ignoreCase: true, out var siteRole)
                ? Results.Ok(site.AddUser(accountId, siteRole))
                : Results.NotFound());
        // Jira events: create an issue (jira:issue_created is sent to the app), update or delete a user (user_updated, user_deleted).
        app.MapPost("/admin/sites/{name}/issues", async (string name, string? reporter, string? organizations, string? statusCategory, SiteDirectory sites, CancellationToken ct) =>
        {
            if (sites.Find(name) is not { SharedSecret: not null } site)
            {
                return Results.NotFound();
            }

            var (issue, answers) = await site.CreateIssueAsync(reporter, organizations?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), statusCategory ?? "new", ct);
            return Results.Ok(new { issue.Id, issue.Key, webhookAnswers = answers.Select(a => (int)a) });
        });
        app.MapPost("/admin/sites/{name}/users/{accountId}/updated", async (string name, string accountId, string displayName, string? email, SiteDirectory sites, CancellationToken ct) =>
            sites.Find(name) is { SharedSecret: not null } site
                ? Results.Ok(new { webhookAnswers = (await site.UpdateUserAsync(accountId, displayName, email, cancellationToken: ct)).Select(a => (int)a) })
                : Results.NotFound());
        app.MapPost("/admin/sites/{name}/users/{accountId}/deleted", async (string name, string accountId, SiteDirectory sites, CancellationToken ct) =>
            sites.Find(name) is { SharedSecret: not null } site
                ? Results.Ok(new { webhookAnswers = (await site.DeleteUserAsync(accountId, cancellationToken: ct)).Select(a => (int)a) })
                : Results.NotFound());
        app.MapPost("/admin/sites/{name}/search-faults", (string name, int? latencyMs, int? status, SiteDirectory sites) =>
        {
            if (sites.Find(name) is not { } site)
            {
                return Results.NotFound();
            }

            site.Issues.SearchLatency = TimeSpan.FromMilliseconds(Math.Max(0, latencyMs ?? 0));
            site.Issues.FailSearchWith = status;
            return Results.Ok(new { latencyMs = site.Issues.SearchLatency.TotalMilliseconds, status });
        });
        app.MapPost("/admin/sites/{name}/bulk-property-faults", (string name, int? failTasks, int? rateLimit, int? taskDelayMs, SiteDirectory sites) =>
        {
            if (sites.Find(name) is not { } site)
            {
                return Results.NotFound();
            }

            site.Issues.FailBulkTasks = Math.Max(0, failTasks ?? 0);
            site.Issues.RateLimitBulkCalls = Math.Max(0, rateLimit ?? 0);
            site.Issues.BulkTaskDelay = TimeSpan.FromMilliseconds(Math.Max(0, taskDelayMs ?? 40));
            return Results.Ok(new { failTasks = site.Issues.FailBulkTasks, rateLimit = site.Issues.RateLimitBulkCalls, taskDelayMs = site.Issues.BulkTaskDelay.TotalMilliseconds });
        });
        app.MapPost("/admin/sites/{name}/faults", (string name, int? every, int? status, int? retryAfter, int? latencyMs, SiteDirectory sites) =>
        {
            if (sites.Find(name) is not { } site)
            {
                return Results.NotFound();
            }

            site.Faults = new SiteFaults(Math.Max(0, every ?? 0), status ?? StatusCodes.Status429TooManyRequests, Math.Max(0, retryAfter ?? 1), TimeSpan.FromMilliseconds(Math.Max(0, latencyMs ?? 0)));
            return Results.Ok(site.Faults);
        });

        app.MapGet("/", (SiteDirectory sites) =>
        {
            var html = new StringBuilder("<!doctype html><title>Jira simulator</title><h1>Jira simulator</h1><ul>");
            foreach (var site in sites.All)
            {
                html.Append(CultureInfoInvariant($"<li>{WebUtility.HtmlEncode(site.Name)}: {WebUtility.HtmlEncode(site.BaseUrl.ToString())} (clientKey {WebUtility.HtmlEncode(site.ClientKey)}, {(site.SharedSecret is null ? "not installed" : "installed")})</li>"));
            }

            return Results.Content(html.Append("</ul><p><a href=\"/host\">Local Jira host: every surface of the app, framed as Jira frames it</a></p>").ToString(), "text/html");
        });

        // ?app=http://127.0.0.1:PORT installs another Connect app on loopback instead (bench/ installs ACE this way).
        app.MapPost("/admin/sites/{name}/install", async (string name, string? app, HttpContext context, SiteDirectory sites, ConnectAppInstaller installer, IHttpClientFactory clients) =>
        {
            if (app is not null && (!Uri.TryCreate(app, UriKind.Absolute, out var other) || !other.IsLoopback || other.Scheme != Uri.UriSchemeHttp))
            {
                return Results.Problem("app must be an http URL on loopback.", statusCode: 400);
            }

            var site = sites.GetOrCreate(name, PublicBase(context));
            using var client = app is null ? clients.CreateClient("app") : new HttpClient { BaseAddress = new Uri(app.TrimEnd('/') + "/") };
            using var response = await installer.InstallAsync(client, site, context.RequestAborted);
            return response.IsSuccessStatusCode
                ? Results.Ok(new { site.Name, site.ClientKey, baseUrl = site.BaseUrl, installed = true })
                : Results.Problem($"The app answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}", statusCode: 502);
        });

        app.MapPost("/admin/sites/{name}/uninstall", async (string name, HttpContext context, SiteDirectory sites, ConnectAppInstaller installer, IHttpClientFactory clients) =>
        {
            if (sites.Find(name) is not { } site)
            {
                return Results.NotFound();
            }

            using var response = await installer.UninstallAsync(clients.CreateClient("app"), site, context.RequestAborted);
            return response.IsSuccessStatusCode ? Results.Ok(new { site.Name, uninstalled = true }) : Results.StatusCode(502);
        });

        app.MapPost("/admin/sites/{name}/seed", async (string name, int? organizations, int? customers, HttpContext context, SiteDirectory sites, IHttpClientFactory clients) =>
        {
            if (sites.Find(name) is not { SharedSecret: not null } site)
            {
                return Results.NotFound();
            }

            var data = Demo.DemoData.Generate(Math.Clamp(organizations ?? 25, 0, 5000), Math.Clamp(customers ?? 100, 0, 50_000));
            var result = await Demo.DemoSeeder.SeedAsync(clients.CreateClient("app"), site, data, context.RequestAborted);
            return Results.Ok(result);
        });

        app.MapGet("/admin/sites/{name}/context-token", (string name, string? accountId, SiteDirectory sites) =>
            sites.Find(name) is { SharedSecret: not null } site
                ? Results.Text(SiteTokens.Context(site, accountId ?? "557058:simulated-agent"))
                : Results.NotFound());

        // The site's own REST API: paths as on a real site, under the site's context path.
        var rest = app.MapGroup("/site/{name}");
        rest.MapGet("/rest/api/3/serverInfo", async (string name, HttpContext context, SiteDirectory sites) =>
        {
            if (sites.Find(name) is not { } site)
            {
                return Results.NotFound();
            }

            return await AppTokenVerifier.VerifyAsync(context, site) is { } error
                ? Results.Problem(error, statusCode: 401)
                : Results.Ok(new { baseUrl = site.BaseUrl, serverTitle = $"Jira ({site.Name})", deploymentType = "Cloud" });
        });
        rest.MapPost("/rest/api/3/permissions/check", PermissionsCheck.HandleAsync);
        rest.MapGet("/rest/atlassian-connect/1/addons/{appKey}", AppLicense.HandleAsync);
        rest.MapPost("/rest/atlassian-connect/latest/report-accounts", AccountReports.HandleAsync);
        JsmApi.Map(rest);
        IssueApi.Map(rest);
        app.MapHostPages();
        return app;
    }

    /// <summary>
    /// Requests to https://{name}.atlassian.net/... (how tests address sites) are served as /site/{name}/...,
    /// so one simulator plays any number of sites by host as well as by path.
    /// </summary>
    public static IApplicationBuilder UseSiteHosts(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var host = context.Request.Host.Host;
        const string suffix = ".atlassian.net";
        if (host.EndsWith(suffix, StringComparison.OrdinalIgnoreCase) && !context.Request.Path.StartsWithSegments("/site"))
        {
            var name = host[..^suffix.Length];
            if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>() is { } request && string.IsNullOrEmpty(request.RawTarget))
            {
                request.RawTarget = AtlassianConnect.RequestTarget.Raw(context); // keep what the app signed before the rewrite
            }

            context.Request.Path = new PathString("/site/" + name).Add(context.Request.Path);
        }

        return next(context);
    });

    private static Uri PublicBase(HttpContext context) => new($"{context.Request.Scheme}://{context.Request.Host}");

    private static string CultureInfoInvariant(FormattableString s) => FormattableString.Invariant(s);
}

/// <summary>The simulated sites of this simulator, by name; each lives under <c>{simulator}/site/{name}</c>.</summary>
public sealed class SiteDirectory
{
    private readonly ConcurrentDictionary<string, SimulatedSite> _sites = new(StringComparer.Ordinal);

    public IEnumerable<SimulatedSite> All => _sites.Values.OrderBy(s => s.Name, StringComparer.Ordinal);

    public SimulatedSite? Find(string name) => _sites.TryGetValue(name, out var site) ? site : null;

    public SimulatedSite GetOrCreate(string name, Uri simulatorBase) =>
        _sites.GetOrAdd(name, n =>
        {
            var site = new SimulatedSite(n, new Uri(simulatorBase, $"/site/{Uri.EscapeDataString(n)}"));
            site.ApiBaseUrl = new Uri(simulatorBase, $"/ex/jira/{site.CloudId}"); // a local run calls the simulator, not api.atlassian.com
            return site;
        });

    public SimulatedSite Add(SimulatedSite site) => _sites.GetOrAdd(site.Name, site);
}
