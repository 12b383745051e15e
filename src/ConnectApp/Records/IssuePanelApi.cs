using System.Runtime.CompilerServices;
using System.Security.Claims;
using AtlassianConnect.Authentication;
using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using ConnectApp.Tenants;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Records;

/// <summary>
/// What the agent's issue panel shows, in one request: for the reporter and participants, their customer
/// records, their organizations, and the field definitions to render them with; and the open and closed requests of
/// the reporter and of each of the reporter's organizations, from Jira (<see cref="RequestCounter"/>), or
/// <c>requestCounts.available = false</c> when Jira did not answer within REQUEST_COUNTS_TIMEOUT_MS.
/// </summary>
internal static class IssuePanelApi
{
    public const int MaxAccounts = 50;

    public sealed record Person(string AccountId, RecordView? Customer);

    public sealed record IssuePanel(
        IReadOnlyList<Person> People, IReadOnlyList<RecordView> Organizations, IReadOnlyList<FieldView> CustomerFields, IReadOnlyList<FieldView> OrganizationFields,
        RequestCounts RequestCounts);

    /// <summary>The part of the panel read from the database (cached while unchanged).</summary>
    internal sealed record StoredPanel(
        IReadOnlyList<Person> People, IReadOnlyList<RecordView> Organizations, IReadOnlyList<FieldView> CustomerFields, IReadOnlyList<FieldView> OrganizationFields,
        IReadOnlyList<(Guid Id, string Name)> ReporterOrganizations);

    // A cached catalog is one instance until the site's fields change: its views are made once and shared by every
    // panel read under it, rather than copied into each of the (up to 2,000) cached panels.
    private static readonly ConditionalWeakTable<FieldCatalog, IReadOnlyList<FieldView>> FieldViews = [];

    private static IReadOnlyList<FieldView> Views(FieldCatalog catalog) => FieldViews.GetValue(catalog, static c => c.Active.Select(FieldView.From).ToList());

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/issue-panel", GetAsync).WithTags("Issue panel").RequireAuthorization(RolesFeature.Agent).Problems(RecordProblems.IssuePanelAccounts);

    private static async Task<Ok<IssuePanel>> GetAsync(
        string? reporter, string? participants, Caller caller, HttpContext context, FieldCatalogCache catalogs, PanelReader reader, TenantStore tenants, RequestCounter counter, IssuePanelCache cache, CancellationToken ct)
    {
        var accounts = new[] { reporter }.Concat((participants ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a!.Trim()).Distinct(StringComparer.Ordinal).ToList();
        if (accounts.Count == 0 || accounts.Count > MaxAccounts || accounts.Any(a => a.Length > 128))
        {
            throw RecordProblems.IssuePanelAccounts.Problem($"Give the reporter (and up to {MaxAccounts - 1} participants) as accountIds of at most 128 characters.");
        }

        var reporterId = string.IsNullOrWhiteSpace(reporter) ? null : reporter.Trim();
        var tenant = context.User.FindFirstValue(ConnectJwtDefaults.ClientKeyClaim) is { } clientKey ? await tenants.FindAsync(clientKey, refresh: false, ct) : null;

        // What the database holds comes from the cache while none of it changed (IssuePanelCache); the counts are Jira's.
        var stored = await cache.GetOrReadAsync(
            caller.TenantId,
            caller.Role + "|" + reporterId + "|" + string.Join(',', accounts),
            () => ReadAsync(accounts, reporterId, caller, context, catalogs, reader, ct));
        var counts = reporterId is null ? RequestCounts.Unavailable("no-reporter")
            : tenant is null ? RequestCounts.Unavailable("jira-unavailable")
            : await counter.CountAsync(tenant, caller.TenantId, reporterId, stored.ReporterOrganizations, ct);
        return TypedResults.Ok(new IssuePanel(stored.People, stored.Organizations, stored.CustomerFields, stored.OrganizationFields, counts));
    }

    private static async Task<StoredPanel> ReadAsync(
        List<string> accounts, string? reporterId, Caller caller, HttpContext context, FieldCatalogCache catalogs, PanelReader reader, CancellationToken ct)
    {
        // The field catalogs usually come from the cache (no EF context is made then); the customers with their
        // organizations are one round trip.
        var (organizationFields, customerFields) = await catalogs.GetBothAsync(caller.TenantId, context.RequestServices.GetRequiredService<AppDbContext>, ct);
        var rows = await reader.ReadAsync(caller.TenantId, accounts, ct);
        var customers = rows.Select(r => r.Customer).ToList();
        var memberships = rows.ToDictionary(r => r.Customer.Id, r => r.Organizations.Select(o => o.Id).ToList());
        var organizations = rows.SelectMany(r => r.Organizations).DistinctBy(o => o.Id).OrderBy(o => o.Name, StringComparer.Ordinal).ToList();

        var people = accounts.Select(a => customers.FirstOrDefault(c => c.ExternalId == a) is { } c
            ? new Person(a, RecordView.From(c, customerFields, caller.Role, memberships.GetValueOrDefault(c.Id) ?? []))
            : new Person(a, null)).ToList();
        var reporterOrganizations = reporterId is null ? [] : rows.Where(r => r.Customer.ExternalId == reporterId).SelectMany(r => r.Organizations)
            .OrderBy(o => o.Name, StringComparer.Ordinal).Select(o => (o.Id, o.Name)).ToList();
        return new StoredPanel(
            people,
            organizations.Select(o => RecordView.From(o, organizationFields, caller.Role)).ToList(),
            Views(customerFields),
            Views(organizationFields),
            reporterOrganizations);
    }
}
