using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using AtlassianConnect.Authentication;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ConnectApp.Webhooks;

/// <summary>
/// <c>POST /webhooks/jira</c>: the Jira webhooks the descriptor subscribes to (its <c>webhooks</c> modules). Jira signs
/// each delivery with the site's shared secret (<c>Authorization: JWT</c>, qsh of this request) — verified by the same
/// Connect JWT handler as every other Jira call. The receiver only records the delivery and queues its work, in one
/// transaction, and answers at once (Jira waits a few seconds at most, then retries); the worker does the rest. A
/// delivery id seen before (a retry) is answered 200 and changes nothing.
/// </summary>
internal static class WebhooksApi
{
    public const string Path = "/webhooks/jira";

    public const string IdentifierHeader = "X-Atlassian-Webhook-Identifier";

    public const int MaxIdentifier = 128;

    /// <summary>Jira's issue payloads carry every field of the issue; bigger bodies than this are refused.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public const string IssueCreated = "jira:issue_created";
    public const string UserUpdated = "user_updated";
    public const string UserDeleted = "user_deleted";

    public static readonly string[] Events = [IssueCreated, UserUpdated, UserDeleted];

    /// <summary>Only a token Jira signed for this request (no context token, no API or Forge token).</summary>
    public const string Policy = "connect-webhook";

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPost(Path, ReceiveAsync)
            .WithTags("Jira webhooks")
            .WithSummary("A Jira webhook (jira:issue_created, user_updated, user_deleted), signed by the site; recorded and queued, idempotent by X-Atlassian-Webhook-Identifier")
            .RequireAuthorization(Policy)
            .DisableAntiforgery()
            .Accepts<JsonObject>("application/json")
            .Problems(WebhookProblems.Malformed, PersistenceProblems.Unavailable, ApiTokens.ApiTokenProblems.NotAllowed, ApiTokens.ApiTokenProblems.RateLimited); // an integration's API token is refused before the policy

    private static async Task<Results<Accepted, Ok>> ReceiveAsync(HttpContext context, AppDbContext db, TimeProvider time, IOptions<WebhookOptions> options, ILoggerFactory loggers)
    {
        var ct = context.RequestAborted;
        var tenantId = Guid.Parse(context.User.FindFirstValue(ConnectJwtDefaults.TenantIdClaim)!);
        var identifier = context.Request.Headers[IdentifierHeader].ToString().Trim();
        if (identifier.Length is 0 or > MaxIdentifier || identifier.Contains('\0', StringComparison.Ordinal))
        {
            throw WebhookProblems.Malformed.Problem($"The {IdentifierHeader} header (the delivery id, at most {MaxIdentifier} characters) is required.");
        }

        var delivery = await ReadAsync(context.Request, ct);
        delivery.TenantId = tenantId;
        delivery.Identifier = identifier;
        var now = time.GetUtcNow();
        delivery.ReceivedAt = now;

        if (await db.Set<WebhookDelivery>().AnyAsync(d => d.Identifier == identifier, ct))
        {
            return TypedResults.Ok(); // a retry of a delivery already recorded
        }

        db.Set<WebhookDelivery>().Add(delivery);
        OutboxInterceptor.Add(db, new WebhookReceived(tenantId, delivery.Id));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return TypedResults.Ok(); // the same delivery, recorded by a concurrent request a moment ago
        }

        // Forget delivery ids older than the retention window (Jira retries for minutes, not days); indexed, usually nothing.
        var cutoff = now - options.Value.Retention;
        await db.Set<WebhookDelivery>().Where(d => d.ReceivedAt < cutoff).ExecuteDeleteAsync(ct);
        loggers.CreateLogger(typeof(WebhooksApi)).LogInformation("Webhook {Event} recorded for tenant {TenantId} as {DeliveryId}", delivery.Event, tenantId, delivery.Id);
        return TypedResults.Accepted((string?)null);
    }

    /// <summary>The event and the ids the work needs; everything else in the payload (names, emails, fields) is not kept.</summary>
    private static async Task<WebhookDelivery> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw WebhookProblems.Malformed.Problem($"The body is larger than {MaxBodyBytes} bytes.");
        }

        JsonObject? body;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, ct);
            if (buffer.Length > MaxBodyBytes)
            {
                throw WebhookProblems.Malformed.Problem($"The body is larger than {MaxBodyBytes} bytes.");
            }

            body = buffer.Length == 0 ? null : JsonNode.Parse(buffer.ToArray()) as JsonObject;
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body is null)
        {
            throw WebhookProblems.Malformed.Problem("The body must be a JSON object: a Jira webhook payload.");
        }

        var webhookEvent = Text(body["webhookEvent"]);
        if (webhookEvent is null || !Events.Contains(webhookEvent, StringComparer.Ordinal))
        {
            throw WebhookProblems.Malformed.Problem($"webhookEvent must be one of the events the app subscribes to: {string.Join(", ", Events)}.");
        }

        var delivery = new WebhookDelivery { Id = Guid.CreateVersion7(), Identifier = string.Empty, Event = webhookEvent };
        if (webhookEvent == IssueCreated)
        {
            delivery.IssueId = Text(body["issue"]?["id"]);
            delivery.IssueKey = Text(body["issue"]?["key"]);
            delivery.AccountId = Text(body["issue"]?["fields"]?["reporter"]?["accountId"]);
            if (delivery.IssueId is not { Length: > 0 and <= 32 } || !delivery.IssueId.All(char.IsAsciiDigit) || delivery.IssueKey is { Length: > 64 })
            {
                throw WebhookProblems.Malformed.Problem("issue.id (digits) is required in a jira:issue_created payload.");
            }
        }
        else
        {
            delivery.AccountId = Text(body["user"]?["accountId"]);
            if (delivery.AccountId is null)
            {
                throw WebhookProblems.Malformed.Problem($"user.accountId is required in a {webhookEvent} payload.");
            }
        }

        if (delivery.AccountId is { Length: > 128 } || delivery.AccountId?.Contains('\0', StringComparison.Ordinal) == true
            || delivery.IssueKey?.Contains('\0', StringComparison.Ordinal) == true)
        {
            throw WebhookProblems.Malformed.Problem("The accountId must be at most 128 characters.");
        }

        return delivery;
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && !string.IsNullOrWhiteSpace(text) ? text.Trim()
        : node is JsonValue number && number.TryGetValue<long>(out var n) ? n.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : null;
}
