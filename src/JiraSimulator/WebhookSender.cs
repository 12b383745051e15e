using System.Net;
using System.Text.Json.Nodes;

namespace JiraSimulator;

/// <summary>
/// Sends webhooks to the app as Jira does: to every <c>webhooks</c> module of the installed descriptor subscribed to
/// the event, a POST of the JSON payload with a Connect JWT signed with the site's shared secret (qsh of that POST)
/// and a delivery id in <c>X-Atlassian-Webhook-Identifier</c> (the same id on a retry of the same delivery).
/// </summary>
public static class WebhookSender
{
    public const string IdentifierHeader = "X-Atlassian-Webhook-Identifier";

    /// <summary>The app's answers, one per subscribed module (none when the descriptor has no module for the event).</summary>
    public static async Task<IReadOnlyList<HttpStatusCode>> SendAsync(SimulatedSite site, string webhookEvent, JsonObject payload, string? identifier = null, CancellationToken cancellationToken = default)
    {
        var app = site.AppClient ?? throw new InvalidOperationException($"{site} has no app to send webhooks to (install it first).");
        var modules = site.App?.Json["modules"]?["webhooks"]?.AsArray().Where(m => m?["event"]?.ToString() == webhookEvent).ToList() ?? [];
        var body = (JsonObject)payload.DeepClone();
        body["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        body["webhookEvent"] = webhookEvent;
        identifier ??= Guid.NewGuid().ToString();
        var answers = new List<HttpStatusCode>();
        foreach (var module in modules)
        {
            var url = module!["url"]!.ToString();
            using var request = new HttpRequestMessage(HttpMethod.Post, url.TrimStart('/')) { Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation("Authorization", "JWT " + SiteTokens.Request(site, "POST", url));
            request.Headers.TryAddWithoutValidation(IdentifierHeader, identifier);
            request.Headers.TryAddWithoutValidation("X-Atlassian-Webhook-Retry", "0");
            using var response = await app.SendAsync(request, cancellationToken);
            answers.Add(response.StatusCode);
        }

        return answers;
    }

    public static JsonObject IssueCreatedPayload(SimulatedSite site, SimulatedIssue issue) => new()
    {
        ["issue_event_type_name"] = "issue_created",
        ["issue"] = new JsonObject
        {
            ["id"] = issue.Id,
            ["key"] = issue.Key,
            ["self"] = $"{site.BaseUrl.ToString().TrimEnd('/')}/rest/api/2/{issue.Id}",
            ["fields"] = new JsonObject
            {
                ["reporter"] = issue.ReporterAccountId is null ? null : new JsonObject { ["accountId"] = issue.ReporterAccountId, ["accountType"] = "customer" },
                ["statusCategory"] = new JsonObject { ["key"] = issue.StatusCategory },
            },
        },
    };

    public static JsonObject UserPayload(string accountId, string? displayName = null) => new()
    {
        ["user"] = new JsonObject { ["accountId"] = accountId, ["displayName"] = displayName, ["accountType"] = "customer" },
    };
}
