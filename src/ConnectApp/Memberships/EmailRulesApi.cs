using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Audit;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Records;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Memberships;

/// <summary>
/// Admins map email domains to organizations (<c>acme.com</c>; <c>*.acme.co.uk</c> for any subdomain), see who the rules
/// would add (dry run: nothing changes), and apply them now. Rules also apply after every directory sync and to each
/// customer created in the app.
/// </summary>
internal static class EmailRulesApi
{
    public const int MaxRules = 500;

    public const int MaxDryRun = 1000;

    public sealed record EmailRuleRequest(string? Domain, Guid? OrganizationId);

    public sealed record EmailRuleView(Guid Id, string Domain, bool Wildcard, Guid OrganizationId, string? OrganizationName, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    /// <summary>A customer the rules would add to an organization, and the rule that would do it.</summary>
    public sealed record DryRunEntry(Guid CustomerId, string AccountId, string CustomerName, string Email, Guid OrganizationId, string OrganizationName, Guid RuleId, string Domain);

    /// <summary>Who would be added (at most 1,000 listed; <c>total</c> counts them all). Nothing is changed.</summary>
    public sealed record DryRunResult(int Total, bool Truncated, IReadOnlyList<DryRunEntry> Additions);

    public sealed record ApplyResult(int Added);

    public static void Map(IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/admin/email-rules").WithTags("Email-domain rules (admin)").RequireAuthorization(RolesFeature.Admin);
        group.MapGet("/", ListAsync).WithSummary("The email-domain rules, by domain");
        group.MapPost("/", CreateAsync).WithSummary("Map an email domain (acme.com, or *.acme.co.uk for any subdomain) to an organization")
            .Problems(MembershipProblems.RuleDomain, MembershipProblems.RuleOrganization, MembershipProblems.RuleDuplicate, MembershipProblems.RuleLimit);
        group.MapPut("/{id:guid}", UpdateAsync).WithSummary("Change a rule's domain or organization")
            .Problems(CommonProblems.NotFound, MembershipProblems.RuleDomain, MembershipProblems.RuleOrganization, MembershipProblems.RuleDuplicate);
        group.MapDelete("/{id:guid}", DeleteAsync).WithSummary("Delete a rule (memberships it added stay)").Problems(CommonProblems.NotFound);
        group.MapGet("/dry-run", DryRunAsync).WithSummary("Who the rules would add now (customer, email, organization, rule); changes nothing");
        group.MapPost("/apply", ApplyAsync).WithSummary("Add everyone the rules match now (each addition audited with its rule and written back to JSM)");
    }

    private static async Task<Ok<List<EmailRuleView>>> ListAsync(AppDbContext db, CancellationToken ct)
    {
        var rules = await db.Set<EmailDomainRule>().AsNoTracking().OrderBy(r => r.Domain).ThenBy(r => r.Id).ToListAsync(ct);
        var ids = rules.Select(r => r.OrganizationId).Distinct().ToList();
        var names = await db.Set<Record>().AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.Name, ct);
        return TypedResults.Ok(rules.Select(r => View(r, names.GetValueOrDefault(r.OrganizationId))).ToList());
    }

    private static async Task<Created<EmailRuleView>> CreateAsync(EmailRuleRequest body, Caller caller, AppDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var (domain, organization) = await ValidateAsync(body, db, null, ct);
        if (await db.Set<EmailDomainRule>().CountAsync(ct) >= MaxRules)
        {
            throw MembershipProblems.RuleLimit.Problem($"A site has at most {MaxRules} email-domain rules.");
        }

        var now = time.GetUtcNow();
        var rule = new EmailDomainRule { Id = Guid.NewGuid(), TenantId = caller.TenantId, Domain = domain, OrganizationId = organization.Id, CreatedAt = now, UpdatedAt = now };
        db.Set<EmailDomainRule>().Add(rule);
        audit.Add(caller.TenantId, caller.Actor, "email_rule.created", "email-rule", null, null, null, Describe(rule));
        await SaveAsync(db, ct);
        return TypedResults.Created($"/api/admin/email-rules/{rule.Id}", View(rule, organization.Name));
    }

    private static async Task<Ok<EmailRuleView>> UpdateAsync(Guid id, EmailRuleRequest body, Caller caller, AppDbContext db, AuditLog audit, TimeProvider time, CancellationToken ct)
    {
        var rule = await db.Set<EmailDomainRule>().SingleOrDefaultAsync(r => r.Id == id, ct) ?? throw AppProblem.NotFound("The email-domain rule");
        var (domain, organization) = await ValidateAsync(body, db, id, ct);
        var before = Describe(rule);
        rule.Domain = domain;
        rule.OrganizationId = organization.Id;
        rule.UpdatedAt = time.GetUtcNow();
        audit.Add(caller.TenantId, caller.Actor, "email_rule.updated", "email-rule", null, null, before, Describe(rule));
        await SaveAsync(db, ct);
        return TypedResults.Ok(View(rule, organization.Name));
    }

    private static async Task<NoContent> DeleteAsync(Guid id, Caller caller, AppDbContext db, AuditLog audit, CancellationToken ct)
    {
        var rule = await db.Set<EmailDomainRule>().SingleOrDefaultAsync(r => r.Id == id, ct) ?? throw AppProblem.NotFound("The email-domain rule");
        db.Set<EmailDomainRule>().Remove(rule);
        audit.Add(caller.TenantId, caller.Actor, "email_rule.deleted", "email-rule", null, null, Describe(rule), null);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<DryRunResult>> DryRunAsync(EmailRules rules, CancellationToken ct)
    {
        var (candidates, total) = await rules.CandidatesAsync(MaxDryRun, ct);
        return TypedResults.Ok(new DryRunResult(total, total > candidates.Count, candidates
            .Select(c => new DryRunEntry(c.CustomerId, c.AccountId, c.CustomerName, c.Email, c.OrganizationId, c.OrganizationName, c.RuleId, c.Domain)).ToList()));
    }

    private static async Task<Ok<ApplyResult>> ApplyAsync(Caller caller, EmailRules rules, CancellationToken ct) =>
        TypedResults.Ok(new ApplyResult(await rules.ApplyAsync(caller.TenantId, ct)));

    private static async Task<(string Domain, Record Organization)> ValidateAsync(EmailRuleRequest? body, AppDbContext db, Guid? id, CancellationToken ct)
    {
        var domain = EmailDomains.Normalize(body?.Domain)
            ?? throw MembershipProblems.RuleDomain.Problem("domain must be a domain name such as acme.com, or *. and a domain (*.acme.co.uk) for any of its subdomains; letters, digits and hyphens, at most 253 characters.");
        var organization = body?.OrganizationId is { } orgId
            ? await db.Set<Record>().AsNoTracking().SingleOrDefaultAsync(r => r.Id == orgId && r.Entity == RecordEntity.Organization, ct)
            : null;
        if (organization is null)
        {
            throw MembershipProblems.RuleOrganization.Problem("organizationId must name an organization of this site.");
        }

        if (organization.RemovedAt is not null)
        {
            throw MembershipProblems.RuleOrganization.Problem("The organization is gone from JSM; a rule cannot add anyone to it.");
        }

        if (await db.Set<EmailDomainRule>().AnyAsync(r => r.Domain == domain && r.OrganizationId == organization.Id && r.Id != id, ct))
        {
            throw MembershipProblems.RuleDuplicate.Problem($"A rule already maps {domain} to that organization.");
        }

        return (domain, organization);
    }

    private static async Task SaveAsync(AppDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is Npgsql.PostgresException { SqlState: "23505" })
        {
            throw MembershipProblems.RuleDuplicate.Problem("A rule already maps that domain to that organization.");
        }
    }

    private static JsonObject Describe(EmailDomainRule rule) => new() { ["ruleId"] = rule.Id.ToString(), ["domain"] = rule.Domain, ["organizationId"] = rule.OrganizationId.ToString() };

    private static EmailRuleView View(EmailDomainRule r, string? organizationName) =>
        new(r.Id, r.Domain, EmailDomains.IsWildcard(r.Domain), r.OrganizationId, organizationName, r.CreatedAt, r.UpdatedAt);
}
