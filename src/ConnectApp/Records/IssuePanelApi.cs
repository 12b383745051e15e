using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Records;

/// <summary>
/// What the agent's issue panel shows, in one request: for the reporter and participants, their customer
/// records, their organizations, and the field definitions to render them with.
/// </summary>
internal static class IssuePanelApi
{
    public const int MaxAccounts = 50;

    public sealed record Person(string AccountId, RecordView? Customer);

    public sealed record IssuePanel(IReadOnlyList<Person> People, IReadOnlyList<RecordView> Organizations, IReadOnlyList<FieldView> CustomerFields, IReadOnlyList<FieldView> OrganizationFields);

    internal static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/issue-panel", GetAsync).WithTags("Issue panel").RequireAuthorization(RolesFeature.Agent).Problems(RecordProblems.IssuePanelAccounts);

    private static async Task<Ok<IssuePanel>> GetAsync(string? reporter, string? participants, Caller caller, AppDbContext db, FieldCatalogCache catalogs, PanelReader reader, CancellationToken ct)
    {
        var accounts = new[] { reporter }.Concat((participants ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Where(a => !string.IsNullOrWhiteSpace(a)).Select(a => a!.Trim()).Distinct(StringComparer.Ordinal).ToList();
        if (accounts.Count == 0 || accounts.Count > MaxAccounts || accounts.Any(a => a.Length > 128))
        {
            throw RecordProblems.IssuePanelAccounts.Problem($"Give the reporter (and up to {MaxAccounts - 1} participants) as accountIds of at most 128 characters.");
        }

        // The field catalogs usually come from the cache; the customers with their organizations are one round trip.
        var (organizationFields, customerFields) = await catalogs.GetBothAsync(caller.TenantId, db, ct);
        var rows = await reader.ReadAsync(caller.TenantId, accounts, ct);
        var customers = rows.Select(r => r.Customer).ToList();
        var memberships = rows.ToDictionary(r => r.Customer.Id, r => r.Organizations.Select(o => o.Id).ToList());
        var organizations = rows.SelectMany(r => r.Organizations).DistinctBy(o => o.Id).OrderBy(o => o.Name, StringComparer.Ordinal).ToList();

        var people = accounts.Select(a => customers.FirstOrDefault(c => c.ExternalId == a) is { } c
            ? new Person(a, RecordView.From(c, customerFields, caller.Role, memberships.GetValueOrDefault(c.Id) ?? []))
            : new Person(a, null)).ToList();
        return TypedResults.Ok(new IssuePanel(
            people,
            organizations.Select(o => RecordView.From(o, organizationFields, caller.Role)).ToList(),
            customerFields.Active.Select(FieldView.From).ToList(),
            organizationFields.Active.Select(FieldView.From).ToList()));
    }
}
