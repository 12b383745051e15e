using System.Text.Json.Nodes;
using AtlassianConnect;
using ConnectApp.Fields;
using ConnectApp.Jira;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Records;
using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Jql;

/// <summary>
/// Writes the JQL property (<see cref="JqlProperty"/>) on issues: on one new issue (the <c>jira:issue_created</c>
/// webhook), and on every issue a customer reported when their searchable values or their organizations' change (found
/// with JQL <c>reporter = "accountId"</c>, 100 per page, each set with the patient Jira client: 429 and 5xx retried
/// with Retry-After, at most 4 calls in flight per site). A change that leaves the property as it was costs no call.
/// </summary>
internal sealed class IssueStamper(AppDbContext db, JsmClient jsm, TenantStore tenants, TimeProvider time, ILogger<IssueStamper> logger)
{
    /// <summary>Stamps one issue with its reporter's values; false when there is nothing to stamp (no searchable field, a reporter the app does not know).</summary>
    public async Task<bool> StampIssueAsync(ConnectTenant tenant, Guid tenantId, string issueId, string reporterAccountId, CancellationToken cancellationToken)
    {
        var (organizationFields, customerFields) = await FieldCatalog.LoadBothAsync(db, cancellationToken);
        if (!JqlProperty.Searchable(customerFields).Concat(JqlProperty.Searchable(organizationFields)).Any())
        {
            return false;
        }

        var customer = await db.Set<Record>().AsNoTracking().SingleOrDefaultAsync(r => r.Entity == RecordEntity.Customer && r.ExternalId == reporterAccountId, cancellationToken);
        if (customer is null)
        {
            return false;
        }

        var property = await PropertyAsync(customer, customerFields, organizationFields, cancellationToken);
        var stamped = await jsm.SetIssuePropertyAsync(tenant, issueId, JqlProperty.PropertyKey, property, cancellationToken);
        logger.LogInformation("Issue {IssueId} of tenant {TenantId} stamped: {Stamped}", issueId, tenantId, stamped);
        return stamped;
    }

    /// <summary>A customer's or organization's values or memberships changed: the issues of that customer (of the organization's members) are stamped again where the property changed.</summary>
    public async Task<int> StampRecordAsync(Guid tenantId, Guid recordId, CancellationToken cancellationToken)
    {
        var (organizationFields, customerFields) = await FieldCatalog.LoadBothAsync(db, cancellationToken);
        var searchable = JqlProperty.Searchable(customerFields).Concat(JqlProperty.Searchable(organizationFields)).Any();
        if (!searchable && !await db.Set<JqlStamp>().AnyAsync(cancellationToken))
        {
            return 0; // nothing searchable now, and nothing stamped before that would have to be cleared
        }

        var record = await db.Set<Record>().AsNoTracking().SingleOrDefaultAsync(r => r.Id == recordId, cancellationToken);
        if (record is null || await TenantAsync(tenantId, cancellationToken) is not { } tenant)
        {
            return 0;
        }

        var customers = record.Entity == RecordEntity.Customer
            ? [record]
            : await db.Set<Membership>().Where(m => m.OrganizationId == record.Id)
                .Join(db.Set<Record>(), m => m.CustomerId, c => c.Id, (m, c) => c).AsNoTracking().ToListAsync(cancellationToken);
        var issues = 0;
        foreach (var customer in customers)
        {
            issues += await StampCustomerAsync(tenant, customer, customerFields, organizationFields, cancellationToken);
        }

        return issues;
    }

    /// <summary>After the searchable fields changed: every customer whose issues may carry a different property now gets a stamp message.</summary>
    public async Task<int> QueueEveryoneAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var ids = await db.Database.SqlQueryRaw<Guid>("""
            SELECT id AS "Value" FROM records WHERE entity = 'Customer' AND field_values <> jsonb_build_object()
            UNION SELECT m.customer_id FROM memberships m JOIN records o ON o.id = m.organization_id WHERE o.field_values <> jsonb_build_object()
            UNION SELECT customer_id FROM jql_stamps
            """).ToListAsync(cancellationToken);
        return await QueueAsync(tenantId, ids, cancellationToken);
    }

    /// <summary>After options were renamed: the customers holding one of them, or in an organization that does, get a stamp message.</summary>
    public async Task<int> QueueHoldersAsync(Guid tenantId, IReadOnlyList<(Guid FieldId, Guid OptionId)> options, CancellationToken cancellationToken)
    {
        var ids = new HashSet<Guid>();
        foreach (var (fieldId, optionId) in options)
        {
            // A select holds the id as a string, a multi-select in an array: jsonb containment matches both.
            var field = fieldId.ToString();
            var option = optionId.ToString();
            ids.UnionWith(await db.Database.SqlQuery<Guid>($"""
                SELECT id AS "Value" FROM records WHERE entity = 'Customer' AND (field_values -> {field}) @> to_jsonb({option}::text)
                UNION SELECT m.customer_id FROM memberships m JOIN records o ON o.id = m.organization_id WHERE (o.field_values -> {field}) @> to_jsonb({option}::text)
                """).ToListAsync(cancellationToken));
        }

        return await QueueAsync(tenantId, ids, cancellationToken);
    }

    /// <summary>A stamp message per customer, saved 500 at a time; how many.</summary>
    private async Task<int> QueueAsync(Guid tenantId, IReadOnlyCollection<Guid> customerIds, CancellationToken cancellationToken)
    {
        foreach (var chunk in customerIds.Chunk(500))
        {
            foreach (var id in chunk)
            {
                OutboxInterceptor.Add(db, new JqlStampRequested(tenantId, id));
            }

            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }

        return customerIds.Count;
    }

    private async Task<int> StampCustomerAsync(ConnectTenant tenant, Record customer, FieldCatalog customerFields, FieldCatalog organizationFields, CancellationToken cancellationToken)
    {
        var property = await PropertyAsync(customer, customerFields, organizationFields, cancellationToken);
        var hash = JqlProperty.Hash(property);
        var stamp = await db.Set<JqlStamp>().SingleOrDefaultAsync(s => s.CustomerId == customer.Id, cancellationToken);
        if (stamp?.Hash == hash)
        {
            return 0;
        }

        var issues = 0;
        var empty = property["customer"]!.AsObject().Count == 0 && property["organization"]!.AsObject().Count == 0;
        if (stamp is not null || !empty) // never stamped and nothing to say: no issue of theirs carries a property
        {
            var jql = "reporter = " + JqlProperty.Quote(customer.ExternalId);
            string? next = null;
            do
            {
                var (page, token) = await jsm.SearchIssuesAsync(tenant, jql, next, cancellationToken);
                foreach (var issue in page)
                {
                    if (await jsm.SetIssuePropertyAsync(tenant, issue.Id, JqlProperty.PropertyKey, property, cancellationToken))
                    {
                        issues++;
                    }
                }

                next = token;
            }
            while (next is not null);
        }

        if (stamp is null)
        {
            db.Set<JqlStamp>().Add(new JqlStamp { CustomerId = customer.Id, TenantId = customer.TenantId, Hash = hash, Issues = issues, StampedAt = time.GetUtcNow() });
        }
        else
        {
            stamp.Hash = hash;
            stamp.Issues = issues;
            stamp.StampedAt = time.GetUtcNow();
        }

        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Customer {CustomerId}: {Issues} issue(s) stamped", customer.Id, issues);
        return issues;
    }

    private async Task<JsonObject> PropertyAsync(Record customer, FieldCatalog customerFields, FieldCatalog organizationFields, CancellationToken cancellationToken)
    {
        var organizationValues = await db.Set<Membership>().Where(m => m.CustomerId == customer.Id)
            .Join(db.Set<Record>(), m => m.OrganizationId, o => o.Id, (m, o) => o.ValuesJson).ToListAsync(cancellationToken);
        return JqlProperty.Build(customer.ValuesJson, organizationValues, customerFields, organizationFields);
    }

    private async Task<ConnectTenant?> TenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var row = await db.Set<Tenant>().AsNoTracking().SingleOrDefaultAsync(t => t.Id == tenantId, cancellationToken);
        return row is null || row.UninstalledAt is not null ? null : await tenants.FindAsync(row.ClientKey, refresh: false, cancellationToken);
    }

    internal Task<ConnectTenant?> FindTenantAsync(Guid tenantId, CancellationToken cancellationToken) => TenantAsync(tenantId, cancellationToken);
}
