using ConnectApp.Problems;

namespace ConnectApp.Webhooks;

/// <summary>Problems of the webhook receiver.</summary>
internal static class WebhookProblems
{
    /// <summary>The body is not a Jira webhook payload the app subscribed to, or the delivery id header is missing.</summary>
    public static readonly ProblemType Malformed = new(400, "webhook.malformed");
}
