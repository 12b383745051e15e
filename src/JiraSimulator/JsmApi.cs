using System.Globalization;
using System.Text.Json.Nodes;

namespace JiraSimulator;

/// <summary>
/// Faults a site injects into its directory REST calls (service desks, organizations, members, customers, users):
/// every <see cref="Every"/>-th call answers <see cref="Status"/> (429 with <c>Retry-After: </c><see cref="RetryAfterSeconds"/>,
/// or 503), and every call waits <see cref="Latency"/> first. Set from tests or <c>POST /admin/sites/{name}/faults</c>.
/// </summary>
public sealed record SiteFaults(int Every = 0, int Status = StatusCodes.Status429TooManyRequests, int RetryAfterSeconds = 1, TimeSpan Latency = default);

/// <summary>
/// The JSM and user REST endpoints the app's directory sync reads, as Jira Cloud answers them: paged with
/// <c>start</c>/<c>limit</c> (limit capped at 50) and <c>isLastPage</c>; the customer list needs
/// <c>X-ExperimentalApi: opt-in</c>; user bulk pages with <c>startAt</c>/<c>maxResults</c>.
/// </summary>
internal static class JsmApi
{
    public static void Map(RouteGroupBuilder rest)
    {
        rest.MapGet("/rest/servicedeskapi/servicedesk", (string name, int? start, int? limit, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, site =>
            {
                var (page, last) = site.Directory.DesksPage(Start(start), Limit(limit));
                return Paged(page.Select(d => new JsonObject
                {
                    ["id"] = d.Id,
                    ["projectId"] = d.ProjectId,
                    ["projectKey"] = d.ProjectKey,
                    ["projectName"] = d.ProjectName,
                }), Start(start), Limit(limit), last);
            }));

        rest.MapGet("/rest/servicedeskapi/organization", (string name, int? start, int? limit, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, site =>
            {
                var (page, last) = site.Directory.OrganizationsPage(Start(start), Limit(limit));
                return Paged(page.Select(o => new JsonObject { ["id"] = o.Id, ["name"] = o.Name }), Start(start), Limit(limit), last);
            }));

        rest.MapGet("/rest/servicedeskapi/organization/{id}/user", (string name, string id, int? start, int? limit, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, site => site.Directory.MembersPage(id, Start(start), Limit(limit)) is { } r
                ? Paged(r.Page.Select(User), Start(start), Limit(limit), r.Last)
                : Results.NotFound(new { errorMessage = "The organization does not exist." })));

        rest.MapGet("/rest/servicedeskapi/servicedesk/{id}/customer", (string name, string id, int? start, int? limit, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, site =>
            {
                if (!string.Equals(context.Request.Headers["X-ExperimentalApi"].ToString(), "opt-in", StringComparison.OrdinalIgnoreCase))
                {
                    return Results.BadRequest(new { errorMessage = "This is an experimental API: send X-ExperimentalApi: opt-in." });
                }

                return site.Directory.CustomersPage(id, Start(start), Limit(limit)) is { } r
                    ? Paged(r.Page.Select(User), Start(start), Limit(limit), r.Last)
                    : Results.NotFound(new { errorMessage = "The service desk does not exist." });
            }));

        rest.MapGet("/rest/api/3/user/bulk", (string name, int? startAt, int? maxResults, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, site =>
            {
                var ids = context.Request.Query["accountId"].Where(a => !string.IsNullOrEmpty(a)).Select(a => a!).Distinct(StringComparer.Ordinal).ToList();
                if (ids.Count == 0)
                {
                    return Results.BadRequest(new { errorMessages = new[] { "accountId is required" } });
                }

                var from = Math.Max(0, startAt ?? 0);
                var size = Math.Clamp(maxResults ?? 10, 1, 200);
                var found = ids.Select(site.Directory.FindCustomer).Where(c => c is not null).Select(c => c!).ToList();
                var page = found.Skip(from).Take(size).ToList();
                return Results.Ok(new JsonObject
                {
                    ["startAt"] = from,
                    ["maxResults"] = size,
                    ["total"] = found.Count,
                    ["isLast"] = from + page.Count >= found.Count,
                    ["values"] = new JsonArray(page.Select(c => (JsonNode)new JsonObject
                    {
                        ["accountId"] = c.AccountId,
                        ["accountType"] = "customer",
                        ["displayName"] = c.DisplayName,
                        ["emailAddress"] = c.EmailAddress,
                        ["active"] = true,
                    }).ToArray()),
                });
            }));
    }

    /// <summary>The service desk list through the API gateway, with the Forge app system token.</summary>
    public static Task<IResult> ForgeServiceDesksAsync(SimulatedSite site, int? start, int? limit, HttpContext context)
    {
        var presented = context.Request.Headers.Authorization.ToString();
        if (!presented.StartsWith("Bearer ", StringComparison.Ordinal) || !string.Equals(presented[7..], site.ForgeSystemToken, StringComparison.Ordinal))
        {
            return Task.FromResult(Results.Problem("The app system token is missing or wrong.", statusCode: 401));
        }

        if (!site.Directory.JsmInstalled)
        {
            return Task.FromResult(Results.NotFound());
        }

        var (page, last) = site.Directory.DesksPage(Start(start), Limit(limit));
        return Task.FromResult(Paged(page.Select(d => new JsonObject { ["id"] = d.Id, ["projectId"] = d.ProjectId, ["projectKey"] = d.ProjectKey, ["projectName"] = d.ProjectName }), Start(start), Limit(limit), last));
    }

    private static async Task<IResult> Guarded(string name, HttpContext context, SiteDirectory sites, Func<SimulatedSite, IResult> answer)
    {
        if (sites.Find(name) is not { } site)
        {
            return Results.NotFound();
        }

        if (await AppTokenVerifier.VerifyAsync(context, site) is { } error)
        {
            return Results.Problem(error, statusCode: 401);
        }

        if (!site.Directory.JsmInstalled && context.Request.Path.Value?.Contains("/rest/servicedeskapi/", StringComparison.Ordinal) == true)
        {
            return Results.NotFound(new { errorMessage = "Jira Service Management is not installed on this site." });
        }

        var call = site.BeginDirectoryCall();
        try
        {
            var faults = site.Faults;
            if (faults.Latency > TimeSpan.Zero)
            {
                await Task.Delay(faults.Latency, context.RequestAborted);
            }

            if (faults.Every > 0 && call % faults.Every == 0)
            {
                site.CountInjectedFault();
                if (faults.Status == StatusCodes.Status429TooManyRequests)
                {
                    context.Response.Headers.RetryAfter = faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                }

                return Results.StatusCode(faults.Status);
            }

            return answer(site);
        }
        finally
        {
            site.EndDirectoryCall();
        }
    }

    private static int Start(int? start) => Math.Max(0, start ?? 0);

    private static int Limit(int? limit) => Math.Clamp(limit ?? ServiceDeskDirectory.MaxLimit, 1, ServiceDeskDirectory.MaxLimit);

    private static JsonObject User(SimulatedCustomer c) => new()
    {
        ["accountId"] = c.AccountId,
        ["displayName"] = c.DisplayName,
        ["emailAddress"] = c.EmailAddress,
        ["active"] = true,
        ["timeZone"] = "Etc/UTC",
    };

    private static IResult Paged(IEnumerable<JsonObject> values, int start, int limit, bool last)
    {
        var array = new JsonArray(values.Select(v => (JsonNode)v).ToArray());
        return Results.Ok(new JsonObject
        {
            ["size"] = array.Count,
            ["start"] = start,
            ["limit"] = limit,
            ["isLastPage"] = last,
            ["values"] = array,
        });
    }
}
