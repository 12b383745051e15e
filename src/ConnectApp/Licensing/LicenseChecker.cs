using System.Net;
using System.Text.Json.Nodes;
using AtlassianConnect;
using AtlassianConnect.Outgoing;
using ConnectApp.Jira;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace ConnectApp.Licensing;

/// <summary>
/// Whether a site holds an active license of the app, from Jira's license API for cloud apps
/// (<c>GET /rest/atlassian-connect/1/addons/{appKey}</c>, <c>license.active</c>; the member is absent for free apps, and
/// then the site is not licensed for a paid listing). Answers are cached per site: an active license for
/// <see cref="ActiveFor"/>, an inactive one for <see cref="InactiveFor"/>, so a site that has just bought the app waits
/// at most that long. When Jira does not answer, the last known answer stands; with none, the site is given the benefit
/// of the doubt — a paying site must not lose its writes to an outage of Atlassian's.
/// </summary>
internal sealed class LicenseChecker(IHttpClientFactory clients, IMemoryCache cache, IOptions<ConnectOptions> connect, ILogger<LicenseChecker> logger)
{
    public static readonly TimeSpan ActiveFor = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan InactiveFor = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LastKnownFor = TimeSpan.FromDays(1);

    public async Task<bool> IsActiveAsync(ConnectTenant tenant, CancellationToken cancellationToken)
    {
        var key = "license:" + tenant.ClientKey;
        if (cache.TryGetValue(key, out bool active))
        {
            return active;
        }

        var answer = await AskJiraAsync(tenant, cancellationToken);
        if (answer is null)
        {
            var lastKnown = cache.TryGetValue("license-last:" + tenant.ClientKey, out bool last) ? last : true;
            cache.Set(key, lastKnown, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = InactiveFor, Size = 1 });
            return lastKnown;
        }

        cache.Set(key, answer.Value, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = answer.Value ? ActiveFor : InactiveFor, Size = 1 });
        cache.Set("license-last:" + tenant.ClientKey, answer.Value, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = LastKnownFor, Size = 1 });
        return answer.Value;
    }

    /// <summary>The license as Jira reports it; null when Jira did not answer usefully.</summary>
    private async Task<bool?> AskJiraAsync(ConnectTenant tenant, CancellationToken cancellationToken)
    {
        using var request = ConnectRequest.Create(tenant, HttpMethod.Get, "rest/atlassian-connect/1/addons/" + Uri.EscapeDataString(connect.Value.AppKey));
        try
        {
            using var response = await clients.CreateClient(JiraClient.HttpClientName).SendAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                logger.LogWarning("License check for tenant {TenantId}: Jira answered {Status}", tenant.TenantId, (int)response.StatusCode);
                return null;
            }

            var body = await response.Content.ReadFromJsonAsync<JsonObject>(cancellationToken);
            var active = body?["license"]?["active"]?.GetValue<bool>() == true;
            logger.LogInformation("License of tenant {TenantId}: {LicenseState}", tenant.TenantId, active ? "active" : body?["license"] is null ? "none (no license member)" : "inactive");
            return active;
        }
        catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or InvalidOperationException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            logger.LogWarning("License check for tenant {TenantId} failed: {Reason}", tenant.TenantId, e.GetType().Name);
            return null;
        }
    }
}
