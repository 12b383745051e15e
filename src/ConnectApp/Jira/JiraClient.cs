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

    /// <summary>Jira checks at most this many project ids in one permissions/check call (documented limit).</summary>
    public const int MaxProjectsPerCheck = 1000;

    /// <summary>
    /// Global ADMINISTER, and SERVICEDESK_AGENT on any of <paramref name="projectIds"/>, for <paramref name="accountId"/>.
    /// Jira answers project permissions only for the projects named in the request, so the caller names them (the
    /// site's service-desk projects, the project in context); more than 1,000 are asked in several calls. Asked as the
    /// app: through the API gateway with the Forge app system token when the request is a Forge Remote call that
    /// carried one, otherwise with a Connect JWT to the site.
    /// </summary>
    public async Task<(bool Admin, bool Agent)> CheckPermissionsAsync(
        ConnectTenant tenant, ForgeInvocation? forge, string accountId, IReadOnlyCollection<long> projectIds, CancellationToken cancellationToken)
    {
        var admin = false;
        var agent = false;
        var chunks = projectIds.Count == 0 ? [[]] : projectIds.Distinct().Chunk(MaxProjectsPerCheck).ToList();
        foreach (var chunk in chunks)
        {
            var (a, g) = await CheckChunkAsync(tenant, forge, accountId, chunk, cancellationToken);
            admin |= a;
            agent |= g;
            if (agent)
            {
                break;
            }
        }

        return (admin, agent);
    }

    /// <summary>
    /// The Jira project ids of the site's service desks (<c>GET /rest/servicedeskapi/servicedesk</c>, every page).
    /// A site without JSM answers 404: no service desks. Any other failure is <see cref="JiraProblems.Unavailable"/>:
    /// the role cannot be told without them.
    /// </summary>
    public async Task<IReadOnlyList<long>> GetServiceDeskProjectIdsAsync(ConnectTenant tenant, ForgeInvocation? forge, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        var start = 0;
        for (var pages = 0; pages < 200; pages++)
        {
            var path = FormattableString.Invariant($"rest/servicedeskapi/servicedesk?start={start}&limit=50");
            using var request = forge is { AppSystemToken: not null } ? ForgeRequest.Create(forge, HttpMethod.Get, path) : ConnectRequest.Create(tenant, HttpMethod.Get, path);
            var body = await SendForJsonAsync(request, "service desk list", cancellationToken, notFoundIsEmpty: true);
            var values = body?["values"]?.AsArray() ?? [];
            foreach (var desk in values)
            {
                if (desk?["projectId"]?.ToString() is { } text && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
                {
                    ids.Add(id);
                }
            }

            if (body?["isLastPage"]?.GetValue<bool>() != false || values.Count == 0)
            {
                break;
            }

            start += values.Count;
        }

        return ids;
    }

    /// <summary>
    /// How many issues <paramref name="jql"/> finds, as Jira estimates it (<c>POST /rest/api/3/search/approximate-count</c>):
    /// quick, and documented as approximate for issues changed in the last seconds. Any failure is
    /// <see cref="JiraProblems.Unavailable"/>; the caller bounds the wait with <paramref name="cancellationToken"/>.
    /// </summary>
    public async Task<long> ApproximateCountAsync(ConnectTenant tenant, string jql, CancellationToken cancellationToken)
    {
        const string path = "rest/api/3/search/approximate-count";
        using var request = ConnectRequest.Create(tenant, HttpMethod.Post, path);
        request.Content = JsonContent.Create(new { jql });
        var body = await SendForJsonAsync(request, "issue count", cancellationToken);
        return body?["count"]?.GetValue<long>() ?? throw JiraProblems.UnavailableProblem("Jira answered the issue count without a count");
    }

    private async Task<JsonObject?> SendForJsonAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken, bool notFoundIsEmpty = false)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw JiraProblems.UnavailableProblem($"Jira {what} failed", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw JiraProblems.UnavailableProblem($"Jira {what} timed out", e);
        }

        using (response)
        {
            if (notFoundIsEmpty && response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw JiraProblems.UnavailableProblem($"Jira answered {(int)response.StatusCode} to the {what}");
            }

            return await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
        }
    }

    private async Task<(bool Admin, bool Agent)> CheckChunkAsync(ConnectTenant tenant, ForgeInvocation? forge, string accountId, long[] projectIds, CancellationToken cancellationToken)
    {
        const string path = "rest/api/3/permissions/check";
        using var request = forge is { AppSystemToken: not null }
            ? ForgeRequest.Create(forge, HttpMethod.Post, path)
            : ConnectRequest.Create(tenant, HttpMethod.Post, path);
        request.Content = JsonContent.Create(new
        {
            accountId,
            globalPermissions = new[] { "ADMINISTER" },
            projectPermissions = new[] { new { permissions = new[] { "SERVICEDESK_AGENT" }, projects = projectIds } },
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
