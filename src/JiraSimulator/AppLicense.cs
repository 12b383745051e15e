namespace JiraSimulator;

/// <summary>What a site's Marketplace license of the app is, as the license API reports it.</summary>
public enum SimulatedLicense
{
    /// <summary>A paid app with an active license (the default: most sites pay).</summary>
    Active,

    /// <summary>A paid app whose license lapsed or was never bought: <c>license.active</c> is false.</summary>
    Inactive,

    /// <summary>No <c>license</c> member at all, as Atlassian documents for free apps.</summary>
    Absent,
}

/// <summary>
/// <c>GET /rest/atlassian-connect/1/addons/{appKey}</c>, the license API for cloud apps as documented: the app's key,
/// version and state, and <c>license</c> (included for paid apps only) with <c>active</c>, <c>type</c>,
/// <c>evaluation</c> and <c>supportEntitlementNumber</c>. An app may ask only about itself.
/// </summary>
internal static class AppLicense
{
    public static async Task<IResult> HandleAsync(string name, string appKey, HttpContext context, SiteDirectory sites)
    {
        if (sites.Find(name) is not { } site)
        {
            return Results.NotFound();
        }

        if (await AppTokenVerifier.VerifyAsync(context, site) is { } error)
        {
            return Results.Problem(error, statusCode: 401);
        }

        if (!string.Equals(appKey, site.AppKey, StringComparison.Ordinal))
        {
            return Results.NotFound(new { errorMessages = new[] { $"The app {appKey} is not installed on this site." } });
        }

        site.CountLicenseCheck();
        if (site.FailLicenseChecksWith is { } status)
        {
            return Results.StatusCode(status);
        }

        var body = new Dictionary<string, object?>
        {
            ["key"] = appKey,
            ["version"] = "1.0.0",
            ["state"] = "ENABLED",
            ["host"] = new { product = "Jira", contacts = Array.Empty<object>() },
        };
        if (site.License != SimulatedLicense.Absent)
        {
            body["license"] = new
            {
                active = site.License == SimulatedLicense.Active,
                type = "COMMERCIAL",
                evaluation = site.LicenseEvaluation,
                supportEntitlementNumber = "SEN-" + site.CloudId.ToString("N")[..8],
            };
        }

        return Results.Json(body);
    }
}
