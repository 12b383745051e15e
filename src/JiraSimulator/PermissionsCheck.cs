using System.Text.Json.Nodes;

namespace JiraSimulator;

/// <summary>
/// <c>POST /rest/api/3/permissions/check</c> as Jira documents it for an app: global permissions the account holds,
/// and for each requested project permission the projects <em>among those named in the request</em> where it holds it
/// (no project ids named: <c>projects: []</c>; unknown ids are ignored; at most 1,000 ids, else 400). Agents hold
/// SERVICEDESK_AGENT and BROWSE_PROJECTS on the projects of the site's service desks (10000 by default); admins also
/// hold ADMINISTER. 429 on demand for back-off tests.
/// </summary>
internal static class PermissionsCheck
{
    public const string ServiceDeskProjectId = "10000";

    public static async Task<IResult> HandleAsync(string name, HttpContext context, SiteDirectory sites)
    {
        if (sites.Find(name) is not { } site)
        {
            return Results.NotFound();
        }

        if (await AppTokenVerifier.VerifyAsync(context, site) is { } error)
        {
            return Results.Problem(error, statusCode: 401);
        }

        return await AnswerAsync(site, context);
    }

    /// <summary>The same check through the API gateway, authorized with the Forge app system token.</summary>
    public static async Task<IResult> HandleForgeAsync(SimulatedSite site, HttpContext context)
    {
        var presented = context.Request.Headers.Authorization.ToString();
        if (!presented.StartsWith("Bearer ", StringComparison.Ordinal) || !string.Equals(presented[7..], site.ForgeSystemToken, StringComparison.Ordinal))
        {
            return Results.Problem("The app system token is missing or wrong.", statusCode: 401);
        }

        site.CountForgePermissionCheck();
        return await AnswerAsync(site, context);
    }

    private static async Task<IResult> AnswerAsync(SimulatedSite site, HttpContext context)
    {
        site.CountPermissionCheck();
        if (site.FailPermissionChecksWith is { } status)
        {
            if (status == StatusCodes.Status429TooManyRequests)
            {
                context.Response.Headers.RetryAfter = "5";
            }

            return Results.StatusCode(status);
        }

        var body = await context.Request.ReadFromJsonAsync<JsonObject>(context.RequestAborted);
        var accountId = body?["accountId"]?.GetValue<string>();
        if (string.IsNullOrEmpty(accountId))
        {
            return Results.BadRequest(new { errorMessages = new[] { "accountId is required for apps" } });
        }

        var user = site.Users.TryGetValue(accountId, out var known) ? known : null;
        var role = user?.Role ?? SiteRole.Customer;
        var global = new JsonArray();
        foreach (var permission in body?["globalPermissions"]?.AsArray() ?? [])
        {
            var key = permission!.GetValue<string>();
            if ((key == "ADMINISTER" && role == SiteRole.Admin) || (key == "USER_PICKER" && role != SiteRole.Customer))
            {
                global.Add(key);
            }
        }

        var deskProjects = site.Directory.ServiceDesks.Select(d => long.Parse(d.ProjectId, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        var projects = new JsonArray();
        foreach (var request in body?["projectPermissions"]?.AsArray() ?? [])
        {
            var named = (request!["projects"]?.AsArray() ?? []).Where(p => p is not null).Select(p => p!.GetValue<long>()).Distinct().ToList();
            if (named.Count > 1000)
            {
                return Results.BadRequest(new { errorMessages = new[] { "A maximum of 1000 projects can be checked." } });
            }

            foreach (var permission in request["permissions"]?.AsArray() ?? [])
            {
                var key = permission!.GetValue<string>();
                var held = role != SiteRole.Customer && key is "SERVICEDESK_AGENT" or "BROWSE_PROJECTS";
                projects.Add(new JsonObject
                {
                    ["permission"] = key,
                    ["projects"] = new JsonArray(named.Where(p => held && (user?.AgentProjects?.Contains(p) ?? deskProjects.Contains(p))).Select(p => (JsonNode)JsonValue.Create(p)).ToArray()),
                    ["issues"] = new JsonArray(),
                });
            }
        }

        return Results.Ok(new JsonObject { ["globalPermissions"] = global, ["projectPermissions"] = projects });
    }
}
