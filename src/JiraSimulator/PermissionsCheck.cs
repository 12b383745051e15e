using System.Text.Json.Nodes;

namespace JiraSimulator;

/// <summary>
/// <c>POST /rest/api/3/permissions/check</c> as Jira answers it for an app: global permissions the account holds,
/// and for each requested project permission the projects where it holds it. Agents hold SERVICEDESK_AGENT on
/// the site's service desk project (id 10000); admins also hold ADMINISTER. 429 on demand for back-off tests.
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

        var role = site.Users.TryGetValue(accountId, out var user) ? user.Role : SiteRole.Customer;
        var global = new JsonArray();
        foreach (var permission in body?["globalPermissions"]?.AsArray() ?? [])
        {
            var key = permission!.GetValue<string>();
            if ((key == "ADMINISTER" && role == SiteRole.Admin) || (key == "USER_PICKER" && role != SiteRole.Customer))
            {
                global.Add(key);
            }
        }

        var projects = new JsonArray();
        foreach (var request in body?["projectPermissions"]?.AsArray() ?? [])
        {
            foreach (var permission in request!["permissions"]?.AsArray() ?? [])
            {
                var key = permission!.GetValue<string>();
                var held = role != SiteRole.Customer && key is "SERVICEDESK_AGENT" or "BROWSE_PROJECTS";
                projects.Add(new JsonObject
                {
                    ["permission"] = key,
                    ["projects"] = held ? new JsonArray(long.Parse(ServiceDeskProjectId, System.Globalization.CultureInfo.InvariantCulture)) : new JsonArray(),
                    ["issues"] = new JsonArray(),
                });
            }
        }

        return Results.Ok(new JsonObject { ["globalPermissions"] = global, ["projectPermissions"] = projects });
    }
}
