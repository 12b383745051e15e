using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace JiraSimulator;

/// <summary>
/// A membership edit the site applied: POST (add) or DELETE (remove), the organization's JSM id, the accountIds, and
/// who made it as JSM's audit shows it: <see cref="MembershipEdit.App"/>, or the accountId the app acted as.
/// </summary>
public sealed record MembershipEdit(string Method, string OrganizationId, IReadOnlyList<string> AccountIds, string Actor = MembershipEdit.App)
{
    public const string App = "app";
}

/// <summary>A simulated Jira Cloud site: its clientKey, its baseUrl and, once installed, the shared secret it signs with.</summary>
public sealed class SimulatedSite
{
    public SimulatedSite(string name, Uri baseUrl, string? clientKey = null)
    {
        Name = name;
        BaseUrl = baseUrl;
        ClientKey = clientKey ?? Guid.NewGuid().ToString();
        ApiBaseUrl = new Uri($"https://api.atlassian.com/ex/jira/{CloudId}");
    }

    public string Name { get; }

    public string ClientKey { get; }

    public Uri BaseUrl { get; set; }

    /// <summary>Forge's id for this site's installation of the app (the app is registered as Connect on Forge); sent in the installed payload.</summary>
    public string InstallationId { get; set; } = "ari:cloud:ecosystem::installation/" + Guid.NewGuid();

    /// <summary>The site's cloud id: Forge Remote calls name <c>https://api.atlassian.com/ex/jira/{cloudId}</c> as apiBaseUrl.</summary>
    public Guid CloudId { get; } = Guid.NewGuid();

    /// <summary>Where Forge tells a remote to call the product.</summary>
    public Uri ApiBaseUrl { get; set; } = null!;

    /// <summary>The app system token Forge sends with invocations (<c>x-forge-oauth-system</c>); the site's REST accepts it as a bearer token.</summary>
    public string ForgeSystemToken { get; } = "forge-system-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The app's OAuth client id on this site (sent as <c>oauthClientId</c> at install; act-as-user assertions name it). Null: not sent.</summary>
    public string? OauthClientId { get; set; } = "oauth-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>Act-as-user: the tokens the authorization server granted for this site, and its faults (<see cref="UserTokenGrants"/>).</summary>
    public UserTokenGrants ActAsUser { get; } = new();

    /// <summary>The secret of the latest install; null before the first.</summary>
    public string? SharedSecret { get; set; }

    /// <summary>The app key this site installed.</summary>
    public string? AppKey { get; internal set; }

    /// <summary>The app's descriptor as read at the latest install: the host pages frame its modules.</summary>
    public ConnectAppInstaller.AppDescriptor? App { get; internal set; }

    /// <summary>Where this site sends webhooks: the client it installed the app through (set by the installer).</summary>
    public HttpClient? AppClient { get; set; }

    /// <summary>The site's issues, the app's dynamic modules and issue properties, the JQL subset (<see cref="IssueStore"/>).</summary>
    public IssueStore Issues { get; } = new();

    /// <summary>Creates an issue and sends <c>jira:issue_created</c> to the app, as Jira does; the app's answers.</summary>
    public async Task<(SimulatedIssue Issue, IReadOnlyList<System.Net.HttpStatusCode> Answers)> CreateIssueAsync(
        string? reporterAccountId, IReadOnlyList<string>? organizations = null, string statusCategory = "new", CancellationToken cancellationToken = default)
    {
        var issue = Issues.Add(reporterAccountId, organizations, statusCategory);
        var answers = await WebhookSender.SendAsync(this, "jira:issue_created", WebhookSender.IssueCreatedPayload(this, issue), cancellationToken: cancellationToken);
        return (issue, answers);
    }

    /// <summary>A user changed their name or email: the directory answers with the new ones, and <c>user_updated</c> is sent.</summary>
    public Task<IReadOnlyList<System.Net.HttpStatusCode>> UpdateUserAsync(string accountId, string displayName, string? email = null, string? identifier = null, CancellationToken cancellationToken = default)
    {
        Directory.RenameCustomer(accountId, displayName, email);
        return WebhookSender.SendAsync(this, "user_updated", WebhookSender.UserPayload(accountId, displayName), identifier, cancellationToken);
    }

    /// <summary>A user was deleted: gone from the directory, and <c>user_deleted</c> is sent.</summary>
    public Task<IReadOnlyList<System.Net.HttpStatusCode>> DeleteUserAsync(string accountId, string? identifier = null, CancellationToken cancellationToken = default)
    {
        Directory.RemoveCustomer(accountId);
        return WebhookSender.SendAsync(this, "user_deleted", WebhookSender.UserPayload(accountId), identifier, cancellationToken);
    }

    /// <summary>The site's users by accountId; the permissions API answers from here (unknown users are customers).</summary>
    public ConcurrentDictionary<string, SimulatedUser> Users { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, the site answers permission checks with this status (429, 503, ...), as Jira does under load.</summary>
    public int? FailPermissionChecksWith { get; set; }

    /// <summary>Personal data reporting: accounts Atlassian answers about, <c>closed</c> or <c>updated</c>.</summary>
    public ConcurrentDictionary<string, string> AccountStatuses { get; } = new(StringComparer.Ordinal);

    /// <summary>Every accountId the app has reported, in order.</summary>
    public ConcurrentQueue<string> ReportedAccounts { get; } = new();

    /// <summary>The <c>Cycle-Period</c> the report-accounts API answers with (seconds; 7 days, Atlassian's default).</summary>
    public int ReportCyclePeriodSeconds { get; set; } = 7 * 24 * 3600;

    /// <summary>The app's Marketplace license on this site, as the license API reports it.</summary>
    public SimulatedLicense License { get; set; } = SimulatedLicense.Active;

    /// <summary>Set: the license API answers with this status (e.g. 503) instead.</summary>
    public int? FailLicenseChecksWith { get; set; }

    /// <summary>Whether the license is an evaluation (trial).</summary>
    public bool LicenseEvaluation { get; set; }

    /// <summary>How often the app asked for its license.</summary>
    public int LicenseChecks => _licenseChecks;

    private int _licenseChecks;

    internal void CountLicenseCheck() => Interlocked.Increment(ref _licenseChecks);

    /// <summary>How many permission checks the site has answered (tests assert the app caches them).</summary>
    public int PermissionChecks => _permissionChecks;

    private int _permissionChecks;

    internal void CountPermissionCheck() => Interlocked.Increment(ref _permissionChecks);

    /// <summary>How many of those came through the API gateway with the Forge app system token.</summary>
    public int ForgePermissionChecks => _forgePermissionChecks;

    private int _forgePermissionChecks;

    internal void CountForgePermissionCheck() => Interlocked.Increment(ref _forgePermissionChecks);

    /// <summary>The site's JSM directory: service desks (one, project 10000, by default), organizations, members, customers.</summary>
    public ServiceDeskDirectory Directory { get; } = new();

    /// <summary>Membership edits of an organization (by JSM id) answer this status (e.g. 403, 500) instead of changing anything.</summary>
    public ConcurrentDictionary<string, int> MembershipEditFailures { get; } = new(StringComparer.Ordinal);

    /// <summary>Every membership edit the site applied (204), in order.</summary>
    public ConcurrentQueue<MembershipEdit> MembershipEdits { get; } = new();

    /// <summary>Faults injected into the directory REST calls (429/503 every n-th call, latency).</summary>
    public SiteFaults Faults { get; set; } = new();

    /// <summary>Directory REST calls answered (faults included).</summary>
    public int DirectoryCalls => _directoryCalls;

    /// <summary>Faults injected so far.</summary>
    public int InjectedFaults => _injectedFaults;

    /// <summary>The most directory calls this site was answering at the same moment (tests check the app's per-site cap).</summary>
    public int MaxConcurrentDirectoryCalls => _maxConcurrent;

    private int _directoryCalls;
    private int _injectedFaults;
    private int _concurrent;
    private int _maxConcurrent;

    internal int BeginDirectoryCall()
    {
        var now = Interlocked.Increment(ref _concurrent);
        int max;
        while (now > (max = _maxConcurrent) && Interlocked.CompareExchange(ref _maxConcurrent, now, max) != max)
        {
        }

        return Interlocked.Increment(ref _directoryCalls);
    }

    internal void EndDirectoryCall() => Interlocked.Decrement(ref _concurrent);

    internal void CountInjectedFault() => Interlocked.Increment(ref _injectedFaults);

    /// <summary>Adds (or replaces) a user.</summary>
    public SimulatedUser AddUser(string accountId, SiteRole role, string? displayName = null, string? email = null)
    {
        var user = new SimulatedUser(accountId, displayName ?? accountId, email ?? $"{accountId.Replace(':', '.')}@example.com", role);
        Users[accountId] = user;
        return user;
    }

    /// <summary>A new shared secret, as Jira makes one per install: 64 random bytes, base64url.</summary>
    public static string NewSharedSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)).Replace('+', '-').Replace('/', '_');

    public override string ToString() => $"SimulatedSite {{ Name = {Name}, ClientKey = {ClientKey} }}";
}
