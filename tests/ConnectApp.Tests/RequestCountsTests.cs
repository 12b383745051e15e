using System.Diagnostics;
using System.Net;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;

namespace ConnectApp.Tests;

/// <summary>
/// The issue panel's request counts, from the simulator's <c>search/approximate-count</c> and its JQL subset: the
/// reporter's open and closed requests and each of their organizations' (<c>Organizations = "name"</c>); and the panel
/// still answering, quickly and without counts, when Jira is slow or failing.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class RequestCountsTests(ConnectAppFixture app)
{
    private const string Reporter = "557058:rita-reporter";

    [Fact]
    public async Task IssuePanel_CountsOpenAndClosedRequests_OfTheReporterAndOfEachOfTheirOrganizations()
    {
        var (site, agent, acmeId) = await SiteWithReporterAsync();
        site.Issues.Add(Reporter, ["Acme \"Quoted\" Co"], "new");
        site.Issues.Add(Reporter, [], "indeterminate");
        site.Issues.Add(Reporter, [], "done");
        site.Issues.Add("557058:someone-else", ["Acme \"Quoted\" Co"], "done");
        site.Issues.Add("557058:someone-else", ["Other"], "new");
        site.Issues.Add("557058:someone-else", [], "done");

        var panel = await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync();
        var counts = panel["requestCounts"]!;
        Assert.True(counts["available"]!.GetValue<bool>(), counts.ToJsonString());
        Assert.Equal(2, counts["reporter"]!["open"]!.GetValue<long>());
        Assert.Equal(1, counts["reporter"]!["closed"]!.GetValue<long>());
        var acme = Assert.Single(counts["organizations"]!.AsArray())!;
        Assert.Equal(acmeId, acme["organizationId"]!.GetValue<string>());
        Assert.Equal("Acme \"Quoted\" Co", acme["name"]!.GetValue<string>());
        Assert.Equal(1, acme["open"]!.GetValue<long>());
        Assert.Equal(1, acme["closed"]!.GetValue<long>());
        Assert.Equal(4, site.Issues.CountCalls);

        // Counted again within the cache time: no new call to Jira.
        await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync();
        Assert.Equal(4, site.Issues.CountCalls);
    }

    [Fact]
    public async Task IssuePanel_AnswersQuicklyWithoutCounts_WhenTheCountCallTimesOut_AndHasThemOnceJiraAnswered()
    {
        var (site, agent, _) = await SiteWithReporterAsync();
        site.Issues.Add(Reporter, [], "new");
        site.Issues.SearchLatency = TimeSpan.FromSeconds(5);

        var clock = Stopwatch.StartNew();
        var panel = await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync();
        clock.Stop();
        Assert.False(panel["requestCounts"]!["available"]!.GetValue<bool>());
        Assert.Equal("jira-slow", panel["requestCounts"]!["reason"]!.GetValue<string>());
        Assert.Equal("Rita Reporter", panel["people"]![0]!["customer"]!["name"]!.GetValue<string>()); // the rest of the panel is there
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"the panel waited {clock.Elapsed.TotalMilliseconds:F0} ms for Jira (budget 1,500 ms)");

        // The calls the panel stopped waiting for finish and are cached: a later look has the counts.
        site.Issues.SearchLatency = TimeSpan.Zero;
        await TenantTableCounts.WaitAsync(
            async () => (await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync())["requestCounts"]!["available"]!.GetValue<bool>(),
            TimeSpan.FromSeconds(20), "the slow counts to arrive");
        var later = await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync();
        Assert.Equal(1, later["requestCounts"]!["reporter"]!["open"]!.GetValue<long>());
    }

    [Fact]
    public async Task IssuePanel_KeepsAtMost8CountCallsInFlightPerSite_AndAnswersWithoutCountsBeyondThem()
    {
        var (site, agent, acmeId) = await SiteWithReporterAsync();
        site.Issues.SearchLatency = TimeSpan.FromSeconds(3);

        // Five reporters, each in Acme: 4 counts each (theirs and Acme's, open and closed; Acme's are shared).
        var reporters = Enumerable.Range(1, 5).Select(i => $"557058:burst-{i}").ToList();
        foreach (var reporter in reporters)
        {
            await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = reporter, name = "Burst " + reporter[^1], organizationIds = new[] { acmeId } })
                .OkJsonAsync(HttpStatusCode.Created);
        }

        var clock = Stopwatch.StartNew();
        var panels = await Task.WhenAll(reporters.Select(r => agent.GetAsync($"api/issue-panel?reporter={r}").OkJsonAsync()));
        clock.Stop();
        Assert.All(panels, p => Assert.Equal("jira-slow", p["requestCounts"]!["reason"]!.GetValue<string>()));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the panels waited {clock.Elapsed.TotalMilliseconds:F0} ms");
        await Task.Delay(TimeSpan.FromSeconds(3.5)); // the calls that were started are answered (the simulator counts a call when it answers)
        Assert.InRange(site.Issues.CountCalls, 2, 8); // 12 distinct counts wanted; never more than 8 asked at once

        // Once Jira has answered the calls in flight, the next looks ask for the rest and have every count.
        site.Issues.SearchLatency = TimeSpan.Zero;
        await TenantTableCounts.WaitAsync(
            async () =>
            {
                var all = await Task.WhenAll(reporters.Select(r => agent.GetAsync($"api/issue-panel?reporter={r}").OkJsonAsync()));
                return all.All(p => p["requestCounts"]!["available"]!.GetValue<bool>());
            },
            TimeSpan.FromSeconds(30), "every count, once Jira keeps up");
    }

    [Fact]
    public async Task IssuePanel_AnswersWithoutCounts_WhenJiraFailsTheCount()
    {
        var (site, agent, _) = await SiteWithReporterAsync();
        site.Issues.FailSearchWith = 503;
        var panel = await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync();
        Assert.False(panel["requestCounts"]!["available"]!.GetValue<bool>());
        Assert.Equal("jira-unavailable", panel["requestCounts"]!["reason"]!.GetValue<string>());
        Assert.Equal("Rita Reporter", panel["people"]![0]!["customer"]!["name"]!.GetValue<string>());
    }

    private Task<(SimulatedSite Site, HttpClient Agent, string AcmeId)> SiteWithReporterAsync() => SiteWithReporterAsync(app);

    internal static async Task<(SimulatedSite Site, HttpClient Agent, string AcmeId)> SiteWithReporterAsync(ConnectAppFixture app)
    {
        var site = await app.InstallSiteAsync();
        var agent = app.As(site, SiteRole.Agent);
        var acme = await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "901", name = "Acme \"Quoted\" Co" }).OkJsonAsync(HttpStatusCode.Created);
        await agent.SendJsonAsync(HttpMethod.Post, "api/customers", new { accountId = Reporter, name = "Rita Reporter", organizationIds = new[] { acme["id"]!.GetValue<string>() } })
            .OkJsonAsync(HttpStatusCode.Created);
        return (site, agent, acme["id"]!.GetValue<string>());
    }
}

/// <summary>An app of its own on a fake clock, so a count can go stale without waiting a minute.</summary>
public sealed class RequestCountsClockApp() : RetentionAppBase(new Dictionary<string, string>());

public sealed class StaleRequestCountsTests(RequestCountsClockApp fixture) : IClassFixture<RequestCountsClockApp>
{
    private const string Reporter = "557058:rita-reporter";

    [Fact]
    public async Task IssuePanel_ShowsAStaleCountAtOnce_WhileOneCallRefreshesIt()
    {
        var (site, agent, _) = await RequestCountsTests.SiteWithReporterAsync(fixture.App);
        site.Issues.Add(Reporter, [], "new");
        var first = await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync();
        Assert.Equal(1, first["requestCounts"]!["reporter"]!["open"]!.GetValue<long>());
        var calls = site.Issues.CountCalls;

        // Past the cache time (60 s), with Jira now slower than the panel's budget: the panel does not wait for it.
        site.Issues.Add(Reporter, [], "new");
        site.Issues.SearchLatency = TimeSpan.FromSeconds(3);
        fixture.Clock.Advance(TimeSpan.FromSeconds(61));
        var clock = Stopwatch.StartNew();
        var stale = await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync();
        clock.Stop();
        Assert.True(stale["requestCounts"]!["available"]!.GetValue<bool>(), stale["requestCounts"]!.ToJsonString());
        Assert.Equal(1, stale["requestCounts"]!["reporter"]!["open"]!.GetValue<long>());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), $"the panel waited {clock.Elapsed.TotalMilliseconds:F0} ms for a refresh");

        // One refresh per count, however many looks meanwhile; then the new count.
        await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync();
        await TenantTableCounts.WaitAsync(
            async () => (await agent.GetAsync($"api/issue-panel?reporter={Reporter}").OkJsonAsync())["requestCounts"]!["reporter"]!["open"]!.GetValue<long>() == 2,
            TimeSpan.FromSeconds(20), "the refreshed count");
        Assert.Equal(2 * calls, site.Issues.CountCalls); // each of the reporter's and organization's counts refreshed once
    }
}
