using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using AtlassianConnect;
using ConnectApp.Jira;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace ConnectApp.Records;

/// <summary>Open and closed requests of someone or of an organization, as Jira counts them.</summary>
internal sealed record RequestCount(long Open, long Closed);

/// <summary>An organization's counts: the requests shared with it.</summary>
internal sealed record OrganizationRequestCount(Guid OrganizationId, string Name, long Open, long Closed);

/// <summary>
/// The issue panel's request counts: <see cref="Available"/> false (with <see cref="Reason"/> <c>jira-slow</c> or
/// <c>jira-unavailable</c>) when Jira did not answer in time; the panel answers without them rather than wait.
/// </summary>
internal sealed record RequestCounts(bool Available, string? Reason, RequestCount? Reporter, IReadOnlyList<OrganizationRequestCount>? Organizations)
{
    public static RequestCounts Unavailable(string reason) => new(false, reason, null, null);
}

/// <summary>
/// <c>REQUEST_COUNTS_TIMEOUT_MS</c> (default 1500): how long the issue panel waits for Jira's counts in all.
/// <c>REQUEST_COUNTS_CACHE_SECONDS</c> (default 60): how long a count is fresh (per site and query); for as long again it is served stale while it is refreshed.
/// </summary>
internal sealed class RequestCountsOptions
{
    public string? TimeoutText { get; set; }

    public string? CacheText { get; set; }

    public TimeSpan Timeout => TimeSpan.FromMilliseconds(Parse(TimeoutText) ?? 1500);

    public TimeSpan CacheFor => TimeSpan.FromSeconds(Parse(CacheText) ?? 60);

    internal static int? Parse(string? text) => text is { Length: > 0 } t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
}

internal sealed class RequestCountsOptionsValidator : IValidateOptions<RequestCountsOptions>
{
    public ValidateOptionsResult Validate(string? name, RequestCountsOptions options)
    {
        var failures = new List<string>();
        if (options.TimeoutText is { Length: > 0 } && RequestCountsOptions.Parse(options.TimeoutText) is not (>= 50 and <= 30_000))
        {
            failures.Add("REQUEST_COUNTS_TIMEOUT_MS must be a whole number of milliseconds from 50 to 30000.");
        }

        if (options.CacheText is { Length: > 0 } && RequestCountsOptions.Parse(options.CacheText) is not (>= 0 and <= 3600))
        {
            failures.Add("REQUEST_COUNTS_CACHE_SECONDS must be a whole number of seconds from 0 to 3600.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>
/// Counts requests with Jira's <c>POST /rest/api/3/search/approximate-count</c>: the reporter's with
/// <c>reporter = "accountId" AND statusCategory != Done</c> (open) and <c>= Done</c> (closed); an organization's with
/// the JSM clause <c>Organizations = "name"</c> — the requests shared with the organization, as Atlassian documents it
/// for JSM organizations ("Group customers in organizations", 2016: "search for requests shared with an organization
/// with JQL: Organizations = ..."). Every count is cached briefly per site and query; the panel waits for them at most
/// REQUEST_COUNTS_TIMEOUT_MS in all, after which it answers without them — the calls still under way go on (bounded by
/// the Jira client's own timeout) and fill the cache for the next look. A count gone stale is served once more while
/// one call refreshes it in the background, so a panel never waits for Jira just because a count expired (under load,
/// every panel of a site waited for the refresh: p99 731 ms at 50 connections, bench 2026-11-24 17:26).
/// </summary>
internal sealed class RequestCounter(JiraClient jira, RequestCountCache counts, IOptions<RequestCountsOptions> options, TimeProvider time, ILogger<RequestCounter> logger)
{
    /// <summary>At most this many of the reporter's organizations are counted (two calls each).</summary>
    public const int MaxOrganizations = 10;

    /// <summary>
    /// At most this many count calls in flight per site (in this process). Beyond it a count is not asked for: the
    /// panel answers without counts (<c>jira-slow</c>) instead of piling calls on a Jira that is not keeping up — under
    /// a burst of panels for new reporters, calls the panels had stopped waiting for kept running by the thousand and
    /// took the machine from every other request (bench 2026-11-24 20:35: the directory fell from 1,195 to 25
    /// requests/s right after such a burst).
    /// </summary>
    public const int MaxInFlightPerSite = 8;

    private static readonly ConcurrentDictionary<Guid, StrongBox<int>> InFlight = new();

    // What a count that was not asked for looks like: shared, already faulted, never cached.
    private static readonly Task<long> NotAsked = Task.FromException<long>(new InvalidOperationException("Too many request counts in flight for the site"));

    public async Task<RequestCounts> CountAsync(ConnectTenant tenant, Guid tenantId, string reporter, IReadOnlyList<(Guid Id, string Name)> organizations, CancellationToken cancellationToken)
    {
        var counted = organizations.Take(MaxOrganizations).ToList();
        var reporterClause = "reporter = " + Quote(reporter);
        var queries = new List<string> { reporterClause + " AND statusCategory != Done", reporterClause + " AND statusCategory = Done" };
        foreach (var (_, name) in counted)
        {
            queries.Add("Organizations = " + Quote(name) + " AND statusCategory != Done");
            queries.Add("Organizations = " + Quote(name) + " AND statusCategory = Done");
        }

        var settings = options.Value;
        var tasks = queries.Select(q => CachedCountAsync(tenant, tenantId, q, settings.CacheFor)).ToList();
        if (tasks.Any(t => t == NotAsked))
        {
            return RequestCounts.Unavailable("jira-slow"); // too many of the site's counts in flight already: no use waiting for the others
        }

        var all = Task.WhenAll(tasks);
        // Usually every count comes from the cache, already complete: no timer then.
        if (!all.IsCompleted && await Task.WhenAny(all, Task.Delay(settings.Timeout, cancellationToken)) != all)
        {
            cancellationToken.ThrowIfCancellationRequested();
            logger.LogInformation("Request counts of tenant {TenantId} not ready after {Timeout} ms; the panel answers without them", tenantId, settings.Timeout.TotalMilliseconds);
            return RequestCounts.Unavailable("jira-slow");
        }

        if (tasks.Any(t => !t.IsCompletedSuccessfully))
        {
            logger.LogInformation("Jira did not give the request counts of tenant {TenantId}: {Error}", tenantId, tasks.First(t => t.IsFaulted).Exception?.InnerException?.GetType().Name);
            return RequestCounts.Unavailable("jira-unavailable");
        }

        var counts = tasks.Select(t => t.Result).ToList();
        return new RequestCounts(
            true,
            null,
            new RequestCount(counts[0], counts[1]),
            counted.Select((o, i) => new OrganizationRequestCount(o.Id, o.Name, counts[2 + (2 * i)], counts[3 + (2 * i)])).ToList());
    }

    private Task<long> CachedCountAsync(ConnectTenant tenant, Guid tenantId, string jql, TimeSpan cacheFor)
    {
        var key = ("request-count", tenantId, jql);
        var now = time.GetUtcNow();
        if (counts.Cache.TryGetValue(key, out CachedCount? cached) && cached is not null && !cached.Count.IsFaulted && !cached.Count.IsCanceled)
        {
            // Stale but not expired: answer with the last count at once and refresh it in the background (once), so
            // that no panel waits for Jira because a count just went stale (stale-while-revalidate).
            if (cached.Count.IsCompletedSuccessfully && now >= cached.FreshUntil && Interlocked.Exchange(ref cached.Refreshing, 1) == 0)
            {
                _ = RefreshAsync(tenant, key, jql, cacheFor, cached);
            }

            return cached.Count;
        }

        // Not tied to the panel request: a count still under way when the panel gave up finishes and is cached.
        var task = Ask(tenant, tenantId, jql);
        if (task == NotAsked)
        {
            return task;
        }

        if (cacheFor > TimeSpan.Zero)
        {
            Store(key, new CachedCount(task, now + cacheFor), cacheFor);
            _ = task.ContinueWith(t => counts.Cache.Remove(key), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return task;
    }

    private async Task RefreshAsync(ConnectTenant tenant, (string, Guid, string) key, string jql, TimeSpan cacheFor, CachedCount stale)
    {
        var refreshed = false;
        try
        {
            var count = await Ask(tenant, key.Item2, jql);
            Store(key, new CachedCount(Task.FromResult(count), time.GetUtcNow() + cacheFor), cacheFor);
            refreshed = true;
        }
        catch (Exception e)
        {
            // Keep serving the stale count until it expires; a later look tries again (also when too many were in flight).
            logger.LogInformation("Refreshing a request count of tenant {TenantId} failed: {Error}", key.Item2, e.GetType().Name);
        }
        finally
        {
            if (!refreshed)
            {
                Volatile.Write(ref stale.Refreshing, 0);
            }
        }
    }

    /// <summary>The count call, if the site has fewer than <see cref="MaxInFlightPerSite"/> in flight; else <see cref="NotAsked"/>.</summary>
    private Task<long> Ask(ConnectTenant tenant, Guid tenantId, string jql)
    {
        var inFlight = InFlight.GetOrAdd(tenantId, static _ => new StrongBox<int>());
        if (Interlocked.Increment(ref inFlight.Value) > MaxInFlightPerSite)
        {
            Interlocked.Decrement(ref inFlight.Value);
            return NotAsked;
        }

        var call = jira.ApproximateCountAsync(tenant, jql, CancellationToken.None); // async: its failures are in the task
        _ = call.ContinueWith(static (_, box) => Interlocked.Decrement(ref ((StrongBox<int>)box!).Value), inFlight, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return call;
    }

    // A count is fresh for cacheFor, then served stale (while one refresh runs) for as long again, then forgotten.
    private void Store((string, Guid, string) key, CachedCount entry, TimeSpan cacheFor) =>
        counts.Cache.Set(key, entry, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = cacheFor * 2, Size = 1 });

    private sealed class CachedCount(Task<long> count, DateTimeOffset freshUntil)
    {
        public Task<long> Count { get; } = count;

        public DateTimeOffset FreshUntil { get; } = freshUntil;

        public int Refreshing;
    }

    /// <summary>A JQL string literal: quotes and backslashes escaped.</summary>
    internal static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

/// <summary>
/// The request counts kept in this process: at most <see cref="MaxEntries"/> (one per site and query; least recently
/// used go first). Bounded, because every new reporter adds two to twenty-two queries: a day of panels must not grow
/// the process (a burst of 100,000 new reporters took the web process to 394 MB, bench 2026-11-24 20:52). 10,000 counts
/// are the last 500 to 5,000 reporters' (about 530 bytes each with the cache's own entry).
/// </summary>
internal sealed class RequestCountCache : IDisposable
{
    public const int MaxEntries = 10_000;

    public MemoryCache Cache { get; } = new(new MemoryCacheOptions { SizeLimit = MaxEntries, CompactionPercentage = 0.25 });

    public void Dispose() => Cache.Dispose();
}
