using System.Text.Json.Nodes;

namespace JiraSimulator;

/// <summary>
/// <c>POST /rest/atlassian-connect/latest/report-accounts</c>, personal data reporting as documented: at most 90
/// accounts per call (more is a 400); 204 when none of them needs anything, else 200 with the ones that were
/// <c>closed</c> or <c>updated</c> since the <c>updatedAt</c> the app sent; <c>Cycle-Period</c> on every answer.
/// </summary>
internal static class AccountReports
{
    public const int MaxAccounts = 90;

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

        var body = await context.Request.ReadFromJsonAsync<JsonObject>(context.RequestAborted);
        var accounts = body?["accounts"]?.AsArray().Select(a => a?["accountId"]?.GetValue<string>()).OfType<string>().ToList() ?? [];
        if (accounts.Count is 0 or > MaxAccounts)
        {
            return Results.BadRequest(new { errorMessages = new[] { $"Report between 1 and {MaxAccounts} accounts per call." } });
        }

        foreach (var accountId in accounts)
        {
            site.ReportedAccounts.Enqueue(accountId);
        }

        context.Response.Headers["Cycle-Period"] = site.ReportCyclePeriodSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var answers = accounts
            .Select(a => site.AccountStatuses.TryGetValue(a, out var status) ? new { accountId = a, status } : null)
            .OfType<object>().ToList();
        return answers.Count == 0 ? Results.NoContent() : Results.Json(new { accounts = answers });
    }
}
