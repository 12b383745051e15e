using AtlassianConnect;

namespace JiraSimulator;

/// <summary>The tokens a site mints for the app: iframe/request tokens bound to a URL, and context tokens.</summary>
public static class SiteTokens
{
    /// <summary>An HS256 token for <paramref name="method"/> <paramref name="pathAndQuery"/> (relative to the app's baseUrl), as Jira puts on iframe URLs and webhooks.</summary>
    public static string Request(SimulatedSite site, string method, string pathAndQuery, string? accountId = null, TimeProvider? time = null, TimeSpan? lifetime = null)
    {
        var qsh = QueryStringHash.Compute(method, pathAndQuery);
        return Sign(site, qsh, accountId, time, lifetime);
    }

    /// <summary>A context token (<c>qsh = context-qsh</c>), as <c>AP.context.getToken()</c> returns it.</summary>
    public static string Context(SimulatedSite site, string? accountId = null, TimeProvider? time = null, TimeSpan? lifetime = null) =>
        Sign(site, QueryStringHash.ContextQsh, accountId, time, lifetime ?? TimeSpan.FromMinutes(15));

    private static string Sign(SimulatedSite site, string qsh, string? accountId, TimeProvider? time, TimeSpan? lifetime)
    {
        var secret = site.SharedSecret ?? throw new InvalidOperationException($"{site} has not installed the app yet.");
        var claims = ConnectJwt.RequestClaims(site.ClientKey, qsh, (time ?? TimeProvider.System).GetUtcNow(), lifetime ?? TimeSpan.FromMinutes(3), accountId);
        return ConnectJwt.CreateSymmetric(claims, secret);
    }
}
