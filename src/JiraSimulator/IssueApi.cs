using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace JiraSimulator;

/// <summary>
/// The issue REST endpoints the app calls, as Jira Cloud documents them: <c>POST /rest/api/3/search/approximate-count</c>
/// (<c>{"jql"}</c> → <c>{"count"}</c>), <c>GET</c>/<c>POST /rest/api/3/search/jql</c> (paged by <c>nextPageToken</c>),
/// issue entity properties (<c>PUT</c>/<c>GET /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}</c>, and the
/// asynchronous bulk <c>POST /rest/api/3/issue/properties/multi</c> with its task at <c>GET /rest/api/3/task/{taskId}</c>), and the
/// app's dynamic modules (<c>GET</c>/<c>POST</c>/<c>DELETE /rest/atlassian-connect/1/app/module/dynamic</c>). A JQL
/// outside the subset (<see cref="JqlSubset"/>) is a 400 with Jira's <c>errorMessages</c>.
/// </summary>
internal static class IssueApi
{
    public const int MaxResults = 100;

    /// <summary>Jira allows at most this many dynamic modules per app and site.</summary>
    public const int MaxDynamicModules = 100;

    public static void Map(RouteGroupBuilder rest)
    {
        rest.MapPost("/rest/api/3/search/approximate-count", (string name, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: true, async site =>
            {
                site.Issues.CountCount();
                var body = await ReadAsync(context);
                var jql = body?["jql"]?.ToString() ?? string.Empty;
                return Results.Ok(new { count = site.Issues.Search(jql).Count });
            }));

        rest.MapGet("/rest/api/3/search/jql", (string name, string? jql, string? nextPageToken, int? maxResults, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: true, site => Task.FromResult(Search(site, jql ?? string.Empty, nextPageToken, maxResults))));

        rest.MapPost("/rest/api/3/search/jql", (string name, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: true, async site =>
            {
                var body = await ReadAsync(context);
                return Search(site, body?["jql"]?.ToString() ?? string.Empty, body?["nextPageToken"]?.ToString(), body?["maxResults"]?.GetValue<int>());
            }));

        rest.MapPut("/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}", (string name, string issueIdOrKey, string propertyKey, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: false, async site =>
            {
                if (site.Issues.Find(issueIdOrKey) is not { } issue)
                {
                    return Results.NotFound(new { errorMessages = new[] { "Issue does not exist or you do not have permission to see it." }, errors = new { } });
                }

                var value = await ReadNodeAsync(context);
                if (value is null || propertyKey.Length is 0 or > 255)
                {
                    return Results.BadRequest(new { errorMessages = new[] { "The property value must be valid JSON." }, errors = new { } });
                }

                site.Issues.CountPropertyPut();
                var created = issue.Properties.TryAdd(propertyKey, value);
                if (!created)
                {
                    issue.Properties[propertyKey] = value;
                }

                return created ? Results.StatusCode(StatusCodes.Status201Created) : Results.Ok();
            }));

        // "Bulk set issue properties by issue": up to 100 issues, up to 10 properties each, numeric issueIDs; asynchronous
        // (303 See Other, Location: the task) and non-transactional (failures in the task's result; unknown issues ignored).
        rest.MapPost("/rest/api/3/issue/properties/multi", (string name, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: false, async site =>
            {
                if (site.Issues.TakeRateLimit())
                {
                    context.Response.Headers.RetryAfter = "1";
                    return Results.StatusCode(StatusCodes.Status429TooManyRequests);
                }

                var body = await ReadAsync(context);
                if (Updates(body, out var error) is not { } updates)
                {
                    return Results.BadRequest(new { errorMessages = new[] { error }, errors = new { } });
                }

                var task = site.Issues.StartBulkPropertyTask(new Uri(site.BaseUrl.ToString().TrimEnd('/') + "/rest/api/3/task/"), updates);
                context.Response.Headers.Location = site.BaseUrl.ToString().TrimEnd('/') + "/rest/api/3/task/" + task.Id;
                return Results.StatusCode(StatusCodes.Status303SeeOther);
            }));

        rest.MapGet("/rest/api/3/task/{taskId}", (string name, string taskId, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: false, site =>
            {
                site.Issues.CountTaskPoll();
                return Task.FromResult(site.Issues.Tasks.TryGetValue(taskId, out var task)
                    ? Results.Ok(task.ToJson())
                    : Results.NotFound(new { errorMessages = new[] { "The task does not exist or you do not have permission to see it." }, errors = new { } }));
            }));

        rest.MapGet("/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}", (string name, string issueIdOrKey, string propertyKey, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: false, site => Task.FromResult(
                site.Issues.Find(issueIdOrKey)?.Properties.TryGetValue(propertyKey, out var value) == true
                    ? Results.Ok(new JsonObject { ["key"] = propertyKey, ["value"] = value!.DeepClone() })
                    : Results.NotFound(new { errorMessages = new[] { $"The property with key '{propertyKey}' does not exist." }, errors = new { } }))));

        const string dynamic = "/rest/atlassian-connect/1/app/module/dynamic";
        rest.MapGet(dynamic, (string name, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: false, site => Task.FromResult(Results.Ok(new JsonObject
            {
                ["modules"] = new JsonArray([.. site.Issues.DynamicModules.Values.Select(m => (JsonNode)WithType(m.Module, m.Type))]),
            }))));

        rest.MapPost(dynamic, (string name, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: false, async site =>
            {
                var body = await ReadAsync(context);
                var modules = body?.SelectMany(p => (p.Value as JsonArray ?? []).Select(m => (Type: p.Key, Module: m as JsonObject))).ToList() ?? [];
                if (modules.Count == 0 || modules.Any(m => m.Module?["key"]?.ToString() is not { Length: > 0 }))
                {
                    return Results.BadRequest(new { message = "Installation failed. The app's modules are invalid: every module needs a key." });
                }

                if (modules.Any(m => site.Issues.DynamicModules.ContainsKey(m.Module!["key"]!.ToString())))
                {
                    return Results.BadRequest(new { message = "Installation failed. The app already has a module with one of these keys." });
                }

                if (site.Issues.DynamicModules.Count + modules.Count > MaxDynamicModules)
                {
                    return Results.BadRequest(new { message = $"Installation failed. An app can register at most {MaxDynamicModules} dynamic modules." });
                }

                foreach (var (type, module) in modules)
                {
                    site.Issues.DynamicModules[module!["key"]!.ToString()] = (type, (JsonObject)module.DeepClone());
                }

                return Results.Ok();
            }));

        rest.MapDelete(dynamic, (string name, HttpContext context, SiteDirectory sites) =>
            Guarded(name, context, sites, search: false, site =>
            {
                var keys = context.Request.Query["moduleKey"].Where(k => !string.IsNullOrEmpty(k)).Select(k => k!).ToList();
                if (keys.Count == 0)
                {
                    site.Issues.DynamicModules.Clear();
                }

                foreach (var key in keys)
                {
                    site.Issues.DynamicModules.TryRemove(key, out _);
                }

                return Task.FromResult(Results.Ok());
            }));
    }

    /// <summary>Jira's limits for "Bulk set issue properties by issue".</summary>
    public const int MaxBulkIssues = 100;

    public const int MaxBulkProperties = 10;

    /// <summary>The longest property value Jira takes, in characters of JSON.</summary>
    public const int MaxPropertyValueLength = 32768;

    /// <summary>The body's updates, or null and Jira-like words on what is wrong with it.</summary>
    private static List<(string IssueId, IReadOnlyDictionary<string, JsonNode> Properties)>? Updates(JsonObject? body, out string error)
    {
        error = string.Empty;
        if (body?["issues"] is not JsonArray issues || issues.Count == 0)
        {
            error = "The request body must be valid, non-empty JSON with a list of issues.";
            return null;
        }

        if (issues.Count > MaxBulkIssues)
        {
            error = $"The request can include up to {MaxBulkIssues} issues; it has {issues.Count}.";
            return null;
        }

        var updates = new List<(string, IReadOnlyDictionary<string, JsonNode>)>();
        foreach (var item in issues)
        {
            var id = item?["issueID"];
            if (id is null || id.GetValueKind() != JsonValueKind.Number || !long.TryParse(id.ToJsonString(), NumberStyles.None, CultureInfo.InvariantCulture, out var issueId))
            {
                error = $"The issue ID must be a number: {id?.ToJsonString() ?? "missing"}.";
                return null;
            }

            if (item!["properties"] is not JsonObject properties || properties.Count == 0)
            {
                error = $"Issue {issueId}: the properties must be valid, non-empty JSON.";
                return null;
            }

            if (properties.Count > MaxBulkProperties)
            {
                error = $"Issue {issueId}: up to {MaxBulkProperties} entity properties can be specified for each issue; it has {properties.Count}.";
                return null;
            }

            var values = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
            foreach (var (key, value) in properties)
            {
                if (key.Length is 0 or > 255 || value is null || value.ToJsonString().Length > MaxPropertyValueLength)
                {
                    error = $"Issue {issueId}: the property '{key}' must have a key of 1 to 255 characters and a JSON value of at most {MaxPropertyValueLength} characters.";
                    return null;
                }

                values[key] = value.DeepClone();
            }

            updates.Add((issueId.ToString(CultureInfo.InvariantCulture), values));
        }

        return updates;
    }

    private static JsonObject WithType(JsonObject module, string type)
    {
        var copy = (JsonObject)module.DeepClone();
        copy["moduleType"] = type; // not part of the registered JSON; keeps the listing readable
        return copy;
    }

    private static IResult Search(SimulatedSite site, string jql, string? nextPageToken, int? maxResults)
    {
        site.Issues.CountSearch();
        var start = nextPageToken is { Length: > 0 } token && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
        var size = Math.Clamp(maxResults ?? 50, 1, MaxResults);
        var found = site.Issues.Search(jql);
        var page = found.Skip(start).Take(size).ToList();
        var last = start + page.Count >= found.Count;
        var answer = new JsonObject
        {
            ["issues"] = new JsonArray([.. page.Select(i => (JsonNode)new JsonObject { ["id"] = i.Id, ["key"] = i.Key })]),
            ["isLast"] = last,
        };
        if (!last)
        {
            answer["nextPageToken"] = (start + page.Count).ToString(CultureInfo.InvariantCulture);
        }

        return Results.Ok(answer);
    }

    private static async Task<JsonObject?> ReadAsync(HttpContext context) => await ReadNodeAsync(context) as JsonObject;

    private static async Task<JsonNode?> ReadNodeAsync(HttpContext context)
    {
        try
        {
            return await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<IResult> Guarded(string name, HttpContext context, SiteDirectory sites, bool search, Func<SimulatedSite, Task<IResult>> answer)
    {
        if (sites.Find(name) is not { } site)
        {
            return Results.NotFound();
        }

        if (await AppTokenVerifier.VerifyAsync(context, site) is { } error)
        {
            return Results.Problem(error, statusCode: 401);
        }

        if (site.Issues.CallLatency > TimeSpan.Zero)
        {
            await Task.Delay(site.Issues.CallLatency, context.RequestAborted);
        }

        if (search)
        {
            if (site.Issues.SearchLatency > TimeSpan.Zero)
            {
                await Task.Delay(site.Issues.SearchLatency, context.RequestAborted);
            }

            if (site.Issues.FailSearchWith is { } status)
            {
                return Results.StatusCode(status);
            }
        }

        try
        {
            return await answer(site);
        }
        catch (JqlException e)
        {
            return Results.BadRequest(new { errorMessages = new[] { e.Message }, warningMessages = Array.Empty<string>() });
        }
    }
}
