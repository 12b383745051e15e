using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Records;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Memberships;

/// <summary>
/// Applies the email-domain rules: every customer (not gone from JSM) whose email matches a rule and who is not in the
/// rule's organization is added to it through <see cref="MembershipEditor"/> (written back to JSM, audited as
/// <see cref="Actors.EmailRules"/> with the rule). A customer an agent removed from that organization (and did not add
/// back since) is left out: a person's removal wins over a rule. Rules of an organization gone from JSM do nothing.
/// </summary>
internal sealed class EmailRules(AppDbContext db, MembershipEditor editor)
{
    public const int BatchSize = 500;

    public sealed record Candidate(Guid CustomerId, string AccountId, string CustomerName, string Email, Guid OrganizationId, string OrganizationName, Guid RuleId, string Domain);

    /// <summary>Who the rules would add now, ordered by organization then customer; at most <paramref name="limit"/>, and how many in all.</summary>
    public async Task<(List<Candidate> Candidates, int Total)> CandidatesAsync(int limit, CancellationToken cancellationToken)
    {
        var all = await AllCandidatesAsync(cancellationToken);
        return (all.Take(limit).ToList(), all.Count);
    }

    /// <summary>Adds every candidate, <see cref="BatchSize"/> per transaction; the number added.</summary>
    public async Task<int> ApplyAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var candidates = await AllCandidatesAsync(cancellationToken);
        var caller = new Caller(tenantId, Actors.EmailRules, null, AppRole.Admin);
        var added = 0;
        foreach (var batch in candidates.Chunk(BatchSize))
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var ids = batch.Select(c => c.CustomerId).Concat(batch.Select(c => c.OrganizationId)).Distinct().ToList();
            var records = await db.Set<Record>().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
            var rules = await db.Set<EmailDomainRule>().AsNoTracking().ToDictionaryAsync(r => r.Id, cancellationToken);
            foreach (var candidate in batch)
            {
                if (records.TryGetValue(candidate.CustomerId, out var customer) && records.TryGetValue(candidate.OrganizationId, out var organization)
                    && rules.TryGetValue(candidate.RuleId, out var rule)
                    && await editor.ChangeAsync(caller, customer, organization, MembershipOperation.Add, rule, cancellationToken) is not null)
                {
                    added++;
                }
            }

            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }

        return added;
    }

    /// <summary>A customer being created (tracked, not saved yet): the rules' organizations it is not in yet, added in the same unit of work.</summary>
    public async Task ApplyToNewAsync(Caller caller, Record customer, CancellationToken cancellationToken)
    {
        if (customer.Entity != RecordEntity.Customer || string.IsNullOrWhiteSpace(customer.Email))
        {
            return;
        }

        var rules = await db.Set<EmailDomainRule>().AsNoTracking().OrderBy(r => r.Domain).ThenBy(r => r.Id).ToListAsync(cancellationToken);
        var matching = rules.Where(r => EmailDomains.Matches(customer.Email, r.Domain)).ToList();
        if (matching.Count == 0)
        {
            return;
        }

        var orgIds = matching.Select(r => r.OrganizationId).Distinct().ToList();
        var organizations = await db.Set<Record>().Where(r => orgIds.Contains(r.Id) && r.RemovedAt == null).ToDictionaryAsync(r => r.Id, cancellationToken);
        var ruleCaller = caller with { Actor = Actors.EmailRules, AccountId = null };
        foreach (var rule in matching.DistinctBy(r => r.OrganizationId))
        {
            if (organizations.TryGetValue(rule.OrganizationId, out var organization))
            {
                await editor.ChangeAsync(ruleCaller, customer, organization, MembershipOperation.Add, rule, cancellationToken);
            }
        }
    }

    private async Task<List<Candidate>> AllCandidatesAsync(CancellationToken cancellationToken)
    {
        var rules = await db.Set<EmailDomainRule>().AsNoTracking()
            .Join(db.Set<Record>().Where(o => o.RemovedAt == null), r => r.OrganizationId, o => o.Id, (r, o) => new { Rule = r, o.Name })
            .OrderBy(x => x.Name).ThenBy(x => x.Rule.Domain)
            .ToListAsync(cancellationToken);
        var found = new List<Candidate>();
        var seen = new HashSet<(Guid, Guid)>();
        foreach (var (rule, organizationName) in rules.Select(x => (x.Rule, x.Name)))
        {
            var orgId = rule.OrganizationId;
            var pattern = EmailDomains.LikePattern(rule.Domain);
            var customers = await db.Set<Record>().AsNoTracking()
                .Where(r => r.Entity == RecordEntity.Customer && r.RemovedAt == null && r.Email != null && EF.Functions.Like(r.Email.ToLower(), pattern))
                .Where(r => !db.Set<Membership>().Any(m => m.CustomerId == r.Id && m.OrganizationId == orgId))
                .Where(r => !db.Set<MembershipChange>().Any(c => c.CustomerId == r.Id && c.OrganizationId == orgId && c.Operation == MembershipOperation.Remove
                    && !db.Set<MembershipChange>().Any(a => a.CustomerId == r.Id && a.OrganizationId == orgId && a.Operation == MembershipOperation.Add && a.CreatedAt > c.CreatedAt)))
                .OrderBy(r => r.Name).ThenBy(r => r.Id)
                .Select(r => new { r.Id, r.ExternalId, r.Name, r.Email })
                .ToListAsync(cancellationToken);
            foreach (var c in customers.Where(c => EmailDomains.Matches(c.Email, rule.Domain) && seen.Add((c.Id, orgId))))
            {
                found.Add(new Candidate(c.Id, c.ExternalId, c.Name, c.Email!, orgId, organizationName, rule.Id, rule.Domain));
            }
        }

        return found;
    }
}

/// <summary>
/// Email-domain rules add a customer created in the app to their organizations, in the creation's transaction. The
/// rules are resolved when a record is created, not with the observer: they write through the RecordWriter that holds it.
/// </summary>
internal sealed class EmailRulesOnCreate(IServiceProvider services) : IRecordCreationObserver
{
    public Task CreatingAsync(Caller caller, Record record, CancellationToken cancellationToken) =>
        services.GetRequiredService<EmailRules>().ApplyToNewAsync(caller, record, cancellationToken);
}
