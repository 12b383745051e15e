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
/// webhook, one <c>PUT</c>), and on every issue a customer reported when their searchable values or their organizations'
/// change (found with JQL <c>reporter = "accountId"</c>, 100 per page, each page written with one asynchronous bulk call
/// whose task is followed to COMPLETE; docs/adr/0014), all through the patient Jira client (429 and 5xx retried with
/// Retry-After, at most 4 calls in flight per site). A change that leaves the property as it was costs no call.
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

    /// <summary>At most this many bulk tasks of one customer are awaited at once (a page of 100 issues each).</summary>
    public const int MaxTasksInFlight = 4;

    /// <summary>A bulk task not finished after this long fails the message, which is retried (the writes are idempotent).</summary>
    public static readonly TimeSpan TaskBudget = TimeSpan.FromMinutes(5);

    private async Task<int> StampCustomerAsync(ConnectTenant tenant, Record customer, FieldCatalog customerFields, FieldCatalog organizationFields, CancellationToken cancellationToken)
    {
        // One stamping of a customer at a time (the queue runs 4 messages at once, and two changes of one customer can
        // be two messages): the property is computed under the lock, so the later one writes the latest values after
        // the earlier one's tasks finished, and the hash recorded is what the issues carry.
        await using (await AdvisoryLock.TakeAsync(db.Database, "jql-stamp:" + customer.Id, cancellationToken))
        {
            return await StampLockedAsync(tenant, customer.Id, customerFields, organizationFields, cancellationToken);
        }
    }

    private async Task<int> StampLockedAsync(ConnectTenant tenant, Guid customerId, FieldCatalog customerFields, FieldCatalog organizationFields, CancellationToken cancellationToken)
    {
        var customer = await db.Set<Record>().AsNoTracking().SingleOrDefaultAsync(r => r.Id == customerId, cancellationToken);
        if (customer is null)
        {
            return 0; // deleted meanwhile: its stamp row went with it
        }

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
            issues = await WriteAllAsync(tenant, customer, property, cancellationToken);
        }

        // Only now, every task COMPLETE without a failure: a failure threw above, the hash stays what it was, and the
        // message is retried (or dead-lettered with the reason), never marked done early.
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

    /// <summary>
    /// The customer's issues, a page of 100 at a time (<c>reporter = "accountId"</c>), each page set with one bulk call
    /// (<see cref="JsmClient.SetIssuePropertiesAsync"/>) whose task is followed to its end, at most
    /// <see cref="MaxTasksInFlight"/> at once; how many issues. Throws when a task did not COMPLETE or its result names
    /// failures.
    /// </summary>
    private async Task<int> WriteAllAsync(ConnectTenant tenant, Record customer, JsonObject property, CancellationToken cancellationToken)
    {
        var jql = "reporter = " + JqlProperty.Quote(customer.ExternalId);
        var pending = new Queue<Task>();
        var issues = 0;
        string? next = null;
        try
        {
            do
            {
                var (page, token) = await jsm.SearchIssuesAsync(tenant, jql, next, cancellationToken);
                foreach (var chunk in page.Select(i => i.Id).Chunk(JsmClient.MaxBulkPropertyIssues))
                {
                    if (pending.Count >= MaxTasksInFlight)
                    {
                        await pending.Dequeue();
                    }

                    var taskId = await jsm.SetIssuePropertiesAsync(tenant, chunk, JqlProperty.PropertyKey, property, cancellationToken);
                    pending.Enqueue(AwaitTaskAsync(tenant, taskId, chunk.Length, cancellationToken));
                    issues += chunk.Length;
                }

                next = token;
            }
            while (next is not null);

            while (pending.Count > 0)
            {
                await pending.Dequeue();
            }
        }
        finally
        {
            // A failure leaves no task being awaited unobserved.
            await Task.WhenAll(pending).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        return issues;
    }

    /// <summary>Polls the task (250 ms, doubling to 5 s) until it ends: COMPLETE without failures returns; anything else throws.</summary>
    private async Task AwaitTaskAsync(ConnectTenant tenant, string taskId, int issues, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        var started = time.GetTimestamp();
        while (true)
        {
            await Task.Delay(delay, time, cancellationToken);
            var task = await jsm.TaskAsync(tenant, taskId, cancellationToken);
            if (task.Complete)
            {
                if (BulkFailures(task.Result) is { } failures)
                {
                    throw new JiraCallException($"Jira's bulk property task {taskId} completed with failures: {failures}");
                }

                logger.LogDebug("Bulk property task {TaskId} complete ({Issues} issue(s))", taskId, issues);
                return;
            }

            if (!task.Pending)
            {
                throw new JiraCallException($"Jira's bulk property task {taskId} ended {task.Status}");
            }

            if (time.GetElapsedTime(started) > TaskBudget)
            {
                throw new JiraCallException($"Jira's bulk property task {taskId} still {task.Status} after {TaskBudget.TotalMinutes} min");
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    /// <summary>
    /// What a COMPLETE task's result says failed, or null. Jira documents the operation as non-transactional ("updating
    /// some entities may fail; such information will be available in the task result") without the result's shape; the
    /// app reads the shape Jira's bulk operations document (<c>failedAccessibleIssues</c>: issue id → reasons) and
    /// Jira's error collection (<c>errorMessages</c>, <c>errors</c>), and counts any of them non-empty as a failure.
    /// </summary>
    internal static string? BulkFailures(JsonNode? result)
    {
        if (result is not JsonObject o)
        {
            return null;
        }

        var failed = new List<string>();
        if (o["failedAccessibleIssues"] is JsonObject issues && issues.Count > 0)
        {
            failed.Add(issues.Count + " issue(s): " + string.Join(", ", issues.Select(i => i.Key).Take(5)));
        }

        if (o["errorMessages"] is JsonArray { Count: > 0 } messages)
        {
            failed.Add(string.Join("; ", messages.Take(3)));
        }

        if (o["errors"] is JsonObject { Count: > 0 } errors)
        {
            failed.Add(string.Join("; ", errors.Select(e => e.Key).Take(3)));
        }

        return failed.Count == 0 ? null : string.Join(" / ", failed);
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
