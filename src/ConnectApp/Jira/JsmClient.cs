using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AtlassianConnect;
using AtlassianConnect.Outgoing;

namespace ConnectApp.Jira;

/// <summary>A JSM service desk and the Jira project it serves.</summary>
internal sealed record JsmServiceDesk(string Id, string ProjectId, string? ProjectKey, string? ProjectName);

/// <summary>A JSM organization.</summary>
internal sealed record JsmOrganization(string Id, string Name);

/// <summary>A user as JSM and Jira list them; <see cref="EmailAddress"/> is null when the user's privacy settings hide it.</summary>
internal sealed record JsmUser(string AccountId, string? DisplayName, string? EmailAddress, bool Active = true);

/// <summary>One page of a JSM paged list (<c>start</c>/<c>limit</c>/<c>isLastPage</c>).</summary>
internal sealed record JsmPage<T>(int Size, int Start, int Limit, bool IsLastPage, List<T>? Values);

/// <summary>One page of a Jira platform paged list (<c>startAt</c>/<c>maxResults</c>/<c>isLast</c>).</summary>
internal sealed record JiraPage<T>(int StartAt, int MaxResults, long Total, bool IsLast, List<T>? Values);

/// <summary>An account the report-accounts API answered about: <c>closed</c> (erase its personal data) or <c>updated</c> (refresh it).</summary>
internal sealed record ReportedAccount(string AccountId, string Status);

internal sealed record ReportedAccounts(IReadOnlyList<ReportedAccount>? Accounts);

/// <summary>JSM's answer to a membership edit: its status, and its <c>errorMessage</c> when it refused.</summary>
internal sealed record JsmWriteResult(HttpStatusCode Status, string? Error)
{
    public bool Succeeded => (int)Status is >= 200 and < 300;

    /// <summary>429, 408 and 5xx: worth another attempt later (the client's own retries are spent).</summary>
    public bool Transient => Status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || (int)Status >= 500;
}

/// <summary>
/// A Jira long-running task as <c>GET /rest/api/3/task/{taskId}</c> reports it: <c>status</c> is one of ENQUEUED,
/// RUNNING, COMPLETE, FAILED, CANCEL_REQUESTED, CANCELLED, DEAD; <c>result</c> is what the operation answered.
/// </summary>
internal sealed record JiraTask(string Status, System.Text.Json.Nodes.JsonNode? Result, string? Message)
{
    /// <summary>Still to come: ENQUEUED, RUNNING, or CANCEL_REQUESTED (not yet CANCELLED).</summary>
    public bool Pending => Status is "ENQUEUED" or "RUNNING" or "CANCEL_REQUESTED";

    public bool Complete => Status == "COMPLETE";
}

/// <summary>Jira did not give a usable answer after the retries (or answered with a status a retry cannot fix).</summary>
internal sealed class JiraCallException(string message, HttpStatusCode? status = null, Exception? inner = null) : HttpRequestException(message, inner, status);

/// <summary>
/// The typed Jira / JSM REST client the directory sync uses (docs/adr/0013): hand-written on <see cref="HttpClient"/>,
/// as the app (Connect JWT per request, to the tenant's baseUrl only). The named client carries the resilience
/// (JiraFeature): 429 and 5xx retried with <c>Retry-After</c> honoured and jittered exponential back-off, a timeout
/// per attempt and in all, and a per-site cap on calls in flight (<see cref="TenantConcurrencyHandler"/>).
/// </summary>
internal sealed class JsmClient(HttpClient http)
{
    public const string HttpClientName = "jira-directory";

    /// <summary>JSM caps <c>limit</c> at 50 on its paged lists.</summary>
    public const int PageSize = 50;

    /// <summary>Jira's <c>user/bulk</c> takes at most this many accountIds in one call.</summary>
    public const int MaxBulkUsers = 90;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public IAsyncEnumerable<IReadOnlyList<JsmServiceDesk>> ServiceDesksAsync(ConnectTenant tenant, CancellationToken cancellationToken) =>
        PagesAsync<JsmServiceDesk>(tenant, "rest/servicedeskapi/servicedesk", experimental: false, cancellationToken);

    public IAsyncEnumerable<IReadOnlyList<JsmOrganization>> OrganizationsAsync(ConnectTenant tenant, CancellationToken cancellationToken) =>
        PagesAsync<JsmOrganization>(tenant, "rest/servicedeskapi/organization", experimental: false, cancellationToken);

    public IAsyncEnumerable<IReadOnlyList<JsmUser>> OrganizationMembersAsync(ConnectTenant tenant, string organizationId, CancellationToken cancellationToken) =>
        PagesAsync<JsmUser>(tenant, $"rest/servicedeskapi/organization/{Uri.EscapeDataString(organizationId)}/user", experimental: false, cancellationToken);

    /// <summary>A service desk's customers (an experimental JSM API: sent with <c>X-ExperimentalApi: opt-in</c>).</summary>
    public IAsyncEnumerable<IReadOnlyList<JsmUser>> ServiceDeskCustomersAsync(ConnectTenant tenant, string serviceDeskId, CancellationToken cancellationToken) =>
        PagesAsync<JsmUser>(tenant, $"rest/servicedeskapi/servicedesk/{Uri.EscapeDataString(serviceDeskId)}/customer", experimental: true, cancellationToken);

    /// <summary>Users by accountId (<c>GET /rest/api/3/user/bulk</c>, at most <see cref="MaxBulkUsers"/> ids per call); unknown ids are left out.</summary>
    public async Task<IReadOnlyList<JsmUser>> UsersAsync(ConnectTenant tenant, IReadOnlyCollection<string> accountIds, CancellationToken cancellationToken)
    {
        var users = new List<JsmUser>(accountIds.Count);
        foreach (var chunk in accountIds.Distinct(StringComparer.Ordinal).Chunk(MaxBulkUsers))
        {
            var ids = string.Join('&', chunk.Select(id => "accountId=" + Uri.EscapeDataString(id)));
            var startAt = 0;
            while (true)
            {
                var page = await GetAsync<JiraPage<JsmUser>>(tenant, FormattableString.Invariant($"rest/api/3/user/bulk?startAt={startAt}&maxResults={MaxBulkUsers}&") + ids, false, cancellationToken);
                var values = page.Values ?? [];
                users.AddRange(values);
                if (page.IsLast || values.Count == 0)
                {
                    break;
                }

                startAt += values.Count;
            }
        }

        return users;
    }

    /// <summary>Atlassian's report-accounts API takes at most this many accounts per call.</summary>
    public const int MaxReportedAccounts = 90;

    /// <summary>
    /// Personal data reporting (<c>POST /rest/atlassian-connect/latest/report-accounts</c>, at most
    /// <see cref="MaxReportedAccounts"/> accounts): the accounts Atlassian says are closed or updated (none on 204), and
    /// the reporting interval it asks for (<c>Cycle-Period</c>, seconds), when it says.
    /// </summary>
    public async Task<(IReadOnlyList<ReportedAccount> Accounts, int? CycleSeconds)> ReportAccountsAsync(
        ConnectTenant tenant, IReadOnlyList<(string AccountId, DateTimeOffset UpdatedAt)> accounts, CancellationToken cancellationToken)
    {
        const string path = "rest/atlassian-connect/latest/report-accounts";
        using var request = ConnectRequest.Create(tenant, HttpMethod.Post, path);
        request.Content = JsonContent.Create(new { accounts = accounts.Select(a => new { accountId = a.AccountId, updatedAt = a.UpdatedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) }) });
        using (var response = await SendAsync(request, "POST /" + path, cancellationToken))
        {
            var cycle = response.Headers.TryGetValues("Cycle-Period", out var values)
                && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : (int?)null;
            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                return ([], cycle);
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new JiraCallException($"Jira answered {(int)response.StatusCode} to POST /{path}", response.StatusCode);
            }

            var body = await response.Content.ReadFromJsonAsync<ReportedAccounts>(Json, cancellationToken);
            return (body?.Accounts ?? [], cycle);
        }
    }

    /// <summary>Jira's enhanced search answers at most this many issues per page when only ids are asked for.</summary>
    public const int SearchPageSize = 100;

    /// <summary>
    /// One page of the issues <paramref name="jql"/> finds (<c>POST /rest/api/3/search/jql</c>, ids and keys only, paged
    /// by <c>nextPageToken</c>): the issues, and the token of the next page (null on the last).
    /// </summary>
    public async Task<(IReadOnlyList<(string Id, string Key)> Issues, string? NextPageToken)> SearchIssuesAsync(
        ConnectTenant tenant, string jql, string? nextPageToken, CancellationToken cancellationToken)
    {
        const string path = "rest/api/3/search/jql";
        using var request = ConnectRequest.Create(tenant, HttpMethod.Post, path);
        request.Content = JsonContent.Create(new { jql, nextPageToken, maxResults = SearchPageSize, fields = new[] { "id" } });
        using var response = await SendAsync(request, "POST /" + path, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new JiraCallException($"Jira answered {(int)response.StatusCode} to POST /{path}", response.StatusCode);
        }

        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>(Json, cancellationToken);
        var issues = body?["issues"]?.AsArray()
            .Select(i => (Id: i?["id"]?.ToString() ?? string.Empty, Key: i?["key"]?.ToString() ?? string.Empty))
            .Where(i => i.Id.Length > 0)
            .ToList() ?? [];
        var next = body?["nextPageToken"]?.ToString();
        return (issues, body?["isLast"]?.GetValue<bool>() == true || string.IsNullOrEmpty(next) || issues.Count == 0 ? null : next);
    }

    /// <summary>Sets an issue entity property (<c>PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}</c>; the WRITE scope). False when the issue is gone (404).</summary>
    public async Task<bool> SetIssuePropertyAsync(ConnectTenant tenant, string issueIdOrKey, string propertyKey, System.Text.Json.Nodes.JsonNode value, CancellationToken cancellationToken)
    {
        var path = $"rest/api/3/issue/{Uri.EscapeDataString(issueIdOrKey)}/properties/{Uri.EscapeDataString(propertyKey)}";
        using var request = ConnectRequest.Create(tenant, HttpMethod.Put, path);
        request.Content = new StringContent(value.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await SendAsync(request, "PUT /rest/api/3/issue/{issue}/properties/{key}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new JiraCallException($"Jira answered {(int)response.StatusCode} to PUT /rest/api/3/issue/{{issue}}/properties/{{key}}", response.StatusCode);
        }

        return true;
    }

    /// <summary>"Bulk set issue properties by issue" takes up to 100 issues per request (and up to 10 properties per issue).</summary>
    public const int MaxBulkPropertyIssues = 100;

    /// <summary>
    /// Sets one property on up to <see cref="MaxBulkPropertyIssues"/> issues by id ("Bulk set issue properties by
    /// issue", <c>POST /rest/api/3/issue/properties/multi</c>, body <c>{"issues": [{"issueID": 10001, "properties":
    /// {"key": value}}]}</c>). Jira documents it as asynchronous and non-transactional: it answers 303 See Other with the
    /// task in <c>Location</c>, and the task's result tells which updates failed; an issue it does not find is ignored.
    /// Answers the task's id, to be followed with <see cref="TaskAsync"/> (a <c>Location</c> that is not a task of this
    /// site's REST API is refused, never followed).
    /// </summary>
    public async Task<string> SetIssuePropertiesAsync(ConnectTenant tenant, IReadOnlyCollection<string> issueIds, string propertyKey, System.Text.Json.Nodes.JsonNode value, CancellationToken cancellationToken)
    {
        if (issueIds.Count is 0 or > MaxBulkPropertyIssues)
        {
            throw new ArgumentOutOfRangeException(nameof(issueIds), $"1 to {MaxBulkPropertyIssues} issues per call.");
        }

        const string path = "rest/api/3/issue/properties/multi";
        var issues = new System.Text.Json.Nodes.JsonArray();
        foreach (var id in issueIds)
        {
            issues.Add(new System.Text.Json.Nodes.JsonObject
            {
                ["issueID"] = long.Parse(id, NumberStyles.None, CultureInfo.InvariantCulture), // Jira's issue ids are numbers
                ["properties"] = new System.Text.Json.Nodes.JsonObject { [propertyKey] = value.DeepClone() },
            });
        }

        using var request = ConnectRequest.Create(tenant, HttpMethod.Post, path);
        request.Content = new StringContent(new System.Text.Json.Nodes.JsonObject { ["issues"] = issues }.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await SendAsync(request, "POST /" + path, cancellationToken);
        if (response.StatusCode != HttpStatusCode.SeeOther)
        {
            throw new JiraCallException($"Jira answered {(int)response.StatusCode} to POST /{path}", response.StatusCode);
        }

        return TaskId(response.Headers.Location)
            ?? throw new JiraCallException($"Jira answered POST /{path} without the task's location");
    }

    /// <summary>A long-running task (<c>GET /rest/api/3/task/{taskId}</c>): its status and, once finished, its result.</summary>
    public async Task<JiraTask> TaskAsync(ConnectTenant tenant, string taskId, CancellationToken cancellationToken)
    {
        var body = await GetAsync<System.Text.Json.Nodes.JsonObject>(tenant, "rest/api/3/task/" + Uri.EscapeDataString(taskId), false, cancellationToken);
        return new JiraTask(body["status"]?.ToString() ?? string.Empty, body["result"], body["message"]?.ToString());
    }

    /// <summary>The task id at the end of a <c>Location</c> (absolute or relative) that names <c>/rest/api/{2|3}/task/{id}</c>; null otherwise.</summary>
    internal static string? TaskId(Uri? location)
    {
        if (location is null)
        {
            return null;
        }

        var path = location.IsAbsoluteUri ? location.AbsolutePath : location.OriginalString.Split('?')[0];
        var segments = path.TrimEnd('/').Split('/');
        return segments.Length >= 4 && segments[^2] == "task" && segments[^3] is "2" or "3" && segments[^4] == "api"
            && segments[^1].Length is > 0 and <= 64 && segments[^1].All(char.IsAsciiLetterOrDigit)
            ? segments[^1]
            : null;
    }

    private const string DynamicModulesPath = "rest/atlassian-connect/1/app/module/dynamic";

    /// <summary>The app's dynamic modules on the site (<c>GET /rest/atlassian-connect/1/app/module/dynamic</c>), as Jira lists them.</summary>
    public async Task<System.Text.Json.Nodes.JsonArray> DynamicModulesAsync(ConnectTenant tenant, CancellationToken cancellationToken)
    {
        var body = await GetAsync<System.Text.Json.Nodes.JsonObject>(tenant, DynamicModulesPath, false, cancellationToken);
        return body["modules"]?.AsArray() ?? [];
    }

    /// <summary>Registers dynamic modules (<c>POST</c>, body <c>{ "jiraEntityProperties": [ ... ] }</c>).</summary>
    public async Task RegisterDynamicModulesAsync(ConnectTenant tenant, System.Text.Json.Nodes.JsonObject modules, CancellationToken cancellationToken)
    {
        using var request = ConnectRequest.Create(tenant, HttpMethod.Post, DynamicModulesPath);
        request.Content = new StringContent(modules.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await SendAsync(request, "POST /" + DynamicModulesPath, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new JiraCallException($"Jira answered {(int)response.StatusCode} to POST /{DynamicModulesPath}", response.StatusCode);
        }
    }

    /// <summary>Removes the app's dynamic modules with these keys (<c>DELETE ?moduleKey=...</c>); an absent module is not an error.</summary>
    public async Task DeleteDynamicModulesAsync(ConnectTenant tenant, IReadOnlyCollection<string> moduleKeys, CancellationToken cancellationToken)
    {
        var query = string.Join('&', moduleKeys.Select(k => "moduleKey=" + Uri.EscapeDataString(k)));
        using var request = ConnectRequest.Create(tenant, HttpMethod.Delete, DynamicModulesPath + "?" + query);
        using var response = await SendAsync(request, "DELETE /" + DynamicModulesPath, cancellationToken);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
        {
            throw new JiraCallException($"Jira answered {(int)response.StatusCode} to DELETE /{DynamicModulesPath}", response.StatusCode);
        }
    }

    /// <summary>At most this many accountIds per membership edit (JSM documents no limit; 50 is its page size, and a refusal of a smaller batch is cheaper to narrow down).</summary>
    public const int MaxMembersPerEdit = 50;

    /// <summary>
    /// Adds (<c>POST</c>) or removes (<c>DELETE</c>) customers to/from a JSM organization:
    /// <c>/rest/servicedeskapi/organization/{id}/user</c> with <c>{"accountIds": [...]}</c> (scope WRITE), 204 on success.
    /// Answers with JSM's status and error message; no answer at all is a <see cref="JiraCallException"/>. With
    /// <paramref name="userToken"/> (<see cref="UserTokens"/>) it is sent as that user, else as the app.
    /// </summary>
    public async Task<JsmWriteResult> ChangeMembersAsync(ConnectTenant tenant, string organizationId, IReadOnlyCollection<string> accountIds, bool add, CancellationToken cancellationToken, string? userToken = null)
    {
        if (accountIds.Count is 0 or > MaxMembersPerEdit)
        {
            throw new ArgumentOutOfRangeException(nameof(accountIds), $"1 to {MaxMembersPerEdit} accountIds per call.");
        }

        var path = $"rest/servicedeskapi/organization/{Uri.EscapeDataString(organizationId)}/user";
        var method = add ? HttpMethod.Post : HttpMethod.Delete;
        using var request = ConnectRequest.Create(tenant, method, path);
        if (userToken is not null)
        {
            request.Options.Set(ConnectRequest.UserTokenKey, userToken);
        }

        request.Content = JsonContent.Create(new { accountIds });
        using var response = await SendAsync(request, $"{method} /rest/servicedeskapi/organization/{{id}}/user", cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return new JsmWriteResult(response.StatusCode, null);
        }

        string? error = null;
        try
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(Json, cancellationToken);
            error = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("errorMessage", out var message) && message.ValueKind == JsonValueKind.String ? message.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
        {
            // no JSON body: the status says it all
        }

        return new JsmWriteResult(response.StatusCode, error is { Length: > 300 } ? error[..300] : error);
    }

    private async IAsyncEnumerable<IReadOnlyList<T>> PagesAsync<T>(ConnectTenant tenant, string path, bool experimental, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var start = 0;
        while (true)
        {
            var page = await GetAsync<JsmPage<T>>(tenant, string.Create(CultureInfo.InvariantCulture, $"{path}?start={start}&limit={PageSize}"), experimental, cancellationToken);
            var values = page.Values ?? [];
            yield return values;
            if (page.IsLastPage || values.Count == 0)
            {
                yield break;
            }

            start += values.Count;
        }
    }

    private async Task<T> GetAsync<T>(ConnectTenant tenant, string pathAndQuery, bool experimental, CancellationToken cancellationToken)
    {
        using var request = ConnectRequest.Create(tenant, HttpMethod.Get, pathAndQuery);
        if (experimental)
        {
            request.Headers.Add("X-ExperimentalApi", "opt-in");
        }

        using (var response = await SendAsync(request, "GET " + PathOnly(pathAndQuery), cancellationToken))
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new JiraCallException($"Jira answered {(int)response.StatusCode} to GET {PathOnly(pathAndQuery)}", response.StatusCode);
            }

            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
                ?? throw new JiraCallException($"Jira answered GET {PathOnly(pathAndQuery)} with an empty body");
        }
    }

    /// <summary>Sends through the resilient client; no answer at all (after its retries and timeouts) is a <see cref="JiraCallException"/>.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string call, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new JiraCallException($"Jira did not answer {call}: {e.GetType().Name}", inner: e);
        }
    }

    private static string PathOnly(string pathAndQuery) => pathAndQuery.Split('?')[0];
}

/// <summary>
/// At most <see cref="MaxPerSite"/> calls in flight to one site (by clientKey), whatever the process is doing for
/// others: a big site's sync queues behind its own cap, never in front of another site's calls. Sits inside the retry
/// handler, so a call waiting out a <c>Retry-After</c> does not hold a slot.
/// </summary>
internal sealed class TenantConcurrencyHandler : DelegatingHandler
{
    public const int MaxPerSite = 4;

    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(ConnectRequest.TenantKey, out var tenant) || tenant is null)
        {
            return await base.SendAsync(request, cancellationToken);
        }

        var gate = Gates.GetOrAdd(tenant.ClientKey, _ => new SemaphoreSlim(MaxPerSite, MaxPerSite));
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }
}
