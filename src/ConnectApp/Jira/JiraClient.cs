using System.Net;
using System.Text.Json.Nodes;
using AtlassianConnect;
using AtlassianConnect.Forge;
using AtlassianConnect.Outgoing;
using ConnectApp.Problems;

namespace ConnectApp.Jira;

/// <summary>Problems of calls to Jira.</summary>
internal static class JiraProblems
{
    /// <summary>Jira did not answer, or answered in a way that tells us nothing (429, 5xx): the caller may retry.</summary>
    public static readonly ProblemType Unavailable = new(503, "jira.unavailable");

    public static AppProblem UnavailableProblem(string why, Exception? inner = null) =>
        new(Unavailable, "Jira did not answer; try again shortly.", inner: new HttpRequestException(why, inner)) { RetryAfterSeconds = 5 };
}

/// <summary>Calls a tenant's Jira as the app (JWT-signed, only to the tenant's stored baseUrl).</summary>
internal sealed class JiraClient(HttpClient http)
{
    public const string HttpClientName = "jira";

    /// <summary>
    /// Global ADMINISTER, and SERVICEDESK_AGENT on any project, for <paramref name="accountId"/>. Asked as the app:
    /// through the API gateway with the Forge app system token when the request is a Forge Remote call that carried
    /// one, otherwise with a Connect JWT to the site.
    /// </summary>
    public async Task<(bool Admin, bool Agent)> CheckPermissionsAsync(ConnectTenant tenant, ForgeInvocation? forge, string accountId, CancellationToken cancellationToken)
    {
        const string path = "rest/api/3/permissions/check";
        using var request = forge is { AppSystemToken: not null }
            ? ForgeRequest.Create(forge, HttpMethod.Post, path)
            : ConnectRequest.Create(tenant, HttpMethod.Post, path);
        request.Content = JsonContent.Create(new
        {
            accountId,
            globalPermissions = new[] { "ADMINISTER" },
            projectPermissions = new[] { new { permissions = new[] { "SERVICEDESK_AGENT" } } },
        });
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw JiraProblems.UnavailableProblem("Jira permission check failed", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw JiraProblems.UnavailableProblem("Jira permission check timed out", e);
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.BadRequest)
            {
                return (false, false); // Jira's answer for an account it does not know: no permissions
            }

            if (!response.IsSuccessStatusCode)
            {
                // 429, 5xx, or 401/403/404 (our token refused, the site moved): we cannot tell the role, so we refuse
                // to guess; nothing is cached and the caller gets 503 and may retry.
                throw JiraProblems.UnavailableProblem($"Jira answered {(int)response.StatusCode} to the permission check");
            }

            var body = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
            var admin = body?["globalPermissions"]?.AsArray().Any(p => p?.GetValue<string>() == "ADMINISTER") == true;
            var agent = body?["projectPermissions"]?.AsArray().Any(p =>
                p?["permission"]?.GetValue<string>() == "SERVICEDESK_AGENT" && p["projects"]?.AsArray().Count > 0) == true;
            return (admin, agent);
        }
    }
}
