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

        // Membership edits (scope WRITE): 204; 404 for an unknown organization; 400 with JSM's ErrorResponse when an
        // accountId is not a user of the site (JSM does not say which); a status injected for the organization.
        rest.MapPost("/rest/servicedeskapi/organization/{id}/user", (string name, string id, HttpContext context, SiteDirectory sites) =>
            EditMembersAsync(name, id, add: true, context, sites));
        rest.MapDelete("/rest/servicedeskapi/organization/{id}/user", (string name, string id, HttpContext context, SiteDirectory sites) =>
            EditMembersAsync(name, id, add: false, context, sites));

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

    private static async Task<IResult> EditMembersAsync(string name, string organizationId, bool add, HttpContext context, SiteDirectory sites)
    {
        JsonNode? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (System.Text.Json.JsonException)
        {
            body = null;
        }

        var accountIds = body?["accountIds"] is JsonArray array ? array.Select(a => a?.GetValueKind() == System.Text.Json.JsonValueKind.String ? a.GetValue<string>() : null).ToList() : null;
        return await Guarded(name, context, sites, site =>
        {
            if (site.App is { } app && !app.Scopes.Contains("WRITE", StringComparer.OrdinalIgnoreCase) && !app.Scopes.Contains("ADMIN", StringComparer.OrdinalIgnoreCase))
            {
                return Error(StatusCodes.Status403Forbidden, "The app has not been granted the WRITE scope.", "sd.scope.write");
            }

            // As a user: the token's scopes, and the user's own permission (JSM lets agents and admins edit members).
            var user = context.Items[typeof(UserTokenGrant)] as UserTokenGrant;
            if (user is not null && !user.Scopes.Contains("WRITE") && !user.Scopes.Contains("ADMIN"))
            {
                return Error(StatusCodes.Status403Forbidden, "The token was not granted the WRITE scope.", "sd.scope.write");
            }

            if (user is not null && (!site.Users.TryGetValue(user.AccountId, out var person) || person.Role == SiteRole.Customer))
            {
                return Error(StatusCodes.Status403Forbidden, "You do not have permission to manage this organization's users.", "sd.permission.agent");
            }

            if (site.MembershipEditFailures.TryGetValue(organizationId, out var injected))
            {
                if (injected == StatusCodes.Status429TooManyRequests)
                {
                    context.Response.Headers.RetryAfter = "1";
                }

                return Error(injected, "Injected failure for organization " + organizationId + ".", "sd.injected");
            }

            if (accountIds is null || accountIds.Count == 0 || accountIds.Any(string.IsNullOrEmpty))
            {
                return Error(StatusCodes.Status400BadRequest, "accountIds is required.", "sd.request.invalid");
            }

            var outcome = site.Directory.EditMembers(organizationId, accountIds!, add);
            if (outcome == MemberEditOutcome.NoOrganization)
            {
                return Error(StatusCodes.Status404NotFound, "The organization does not exist.", "sd.organization.not.found");
            }

            if (outcome == MemberEditOutcome.UnknownAccount)
            {
                return Error(StatusCodes.Status400BadRequest, "One or more of the accountIds are not users of this site.", "sd.user.not.found");
            }

            site.MembershipEdits.Enqueue(new MembershipEdit(add ? "POST" : "DELETE", organizationId, [.. accountIds!], user?.AccountId ?? MembershipEdit.App));
            return Results.NoContent();
        });
    }

    /// <summary>JSM's ErrorResponse: <c>errorMessage</c> and <c>i18nErrorMessage</c>.</summary>
    private static IResult Error(int status, string message, string key) =>
        Results.Json(new JsonObject { ["errorMessage"] = message, ["i18nErrorMessage"] = new JsonObject { ["i18nKey"] = key, ["parameters"] = new JsonArray() } }, statusCode: status);

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

        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            // Act-as-user: a token the authorization server granted for this site, still valid; the call is the user's.
            if (site.ActAsUser.Find(authorization[7..]) is not { } grant)
            {
                return Results.Json(new { code = 401, message = "Unauthorized; scope does not match" }, statusCode: 401);
            }

            context.Items[typeof(UserTokenGrant)] = grant;
        }
        else if (await AppTokenVerifier.VerifyAsync(context, site) is { } error)
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
