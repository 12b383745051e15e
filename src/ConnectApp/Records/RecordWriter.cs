using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Audit;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Records;

/// <summary>
/// The one place organizations and customers and their values are written (CSV import batches use its primitives
/// from Csv/ImportWriter). Every change is validated as a whole first (a bad value changes nothing), then applied
/// with its audit rows in one transaction.
/// </summary>
internal sealed class RecordWriter(AppDbContext db, AuditLog audit, TimeProvider time, IEnumerable<IRecordCreationObserver> observers)
{
    public const int MaxBulkRecords = 10_000;

    public sealed record NewRecord(string ExternalId, string Name, string? Email, IReadOnlyList<Guid>? OrganizationIds, IDictionary<string, JsonNode?>? Values);

    public async Task<Record> CreateAsync(Caller caller, RecordEntity entity, NewRecord input, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(input.ExternalId) || input.ExternalId.Length > RecordLimits.ExternalId)
        {
            errors[IdentityName(entity)] = [$"is required (at most {RecordLimits.ExternalId} characters)"];
        }

        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > RecordLimits.Name)
        {
            errors["name"] = [$"is required (at most {RecordLimits.Name} characters)"];
        }

        if (input.Email is { Length: > RecordLimits.Email })
        {
            errors["email"] = [$"must be at most {RecordLimits.Email} characters"];
        }

        var catalog = await FieldCatalog.LoadAsync(db, entity, cancellationToken);
        var values = new JsonObject();
        var changes = Validate(catalog, input.Values ?? new Dictionary<string, JsonNode?>(), caller, errors, values, null);
        if (entity == RecordEntity.Customer && input.OrganizationIds is { Count: > 0 } orgIds)
        {
            var found = await db.Set<Record>().CountAsync(r => r.Entity == RecordEntity.Organization && orgIds.Contains(r.Id), cancellationToken);
            if (found != orgIds.Distinct().Count())
            {
                throw AppProblem.NotFound("An organization in organizationIds");
            }
        }

        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors);
        }

        if (await db.Set<Record>().AnyAsync(r => r.Entity == entity && r.ExternalId == input.ExternalId, cancellationToken))
        {
            throw RecordProblems.Exists.Problem($"A{(entity == RecordEntity.Organization ? "n organization" : " customer")} with that id already exists.");
        }

        var now = time.GetUtcNow();
        var record = Record.New(caller.TenantId, entity, input.ExternalId.Trim(), input.Name.Trim(), input.Email?.Trim(), values.ToJsonString(), now);
        db.Set<Record>().Add(record);
        foreach (var orgId in input.OrganizationIds?.Distinct() ?? [])
        {
            db.Set<Membership>().Add(new Membership { TenantId = caller.TenantId, CustomerId = record.Id, OrganizationId = orgId });
        }

        audit.Add(caller.TenantId, caller.Actor, "record.created", Subject(entity), record.Id, null, null, new JsonObject { ["name"] = record.Name });
        foreach (var (field, _, newValue) in changes)
        {
            audit.Add(caller.TenantId, caller.Actor, "value.set", Subject(entity), record.Id, field.Id, null, newValue?.DeepClone());
        }

        foreach (var observer in observers)
        {
            await observer.CreatingAsync(caller, record, cancellationToken);
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is Npgsql.PostgresException { SqlState: "23505" })
        {
            throw RecordProblems.Exists.Problem("A record with that id already exists.");
        }

        return record;
    }

    /// <summary>Sets or clears values on one record; <paramref name="expectedVersion"/> is the If-Match the caller read.</summary>
    public async Task<Record> SetValuesAsync(Caller caller, Record record, int expectedVersion, IDictionary<string, JsonNode?> input, CancellationToken cancellationToken, string action = "value.set")
    {
        if (record.Version != expectedVersion)
        {
            throw RecordProblems.Stale(record.Version, expectedVersion);
        }

        var catalog = await FieldCatalog.LoadAsync(db, record.Entity, cancellationToken);
        var errors = new Dictionary<string, string[]>();
        var values = JsonNode.Parse(record.ValuesJson)!.AsObject();
        var changes = Validate(catalog, input, caller, errors, values, values);
        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors);
        }

        if (changes.Count == 0)
        {
            return record;
        }

        Apply(caller, record, values, changes, action);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw RecordProblems.VersionMismatch.Problem("The record changed while you saved; reload and try again.");
        }

        return record;
    }

    /// <summary>The same changes on up to 10,000 records of one entity: validated as a whole, applied all or nothing, audited per record.</summary>
    public async Task<int> BulkSetAsync(Caller caller, RecordEntity entity, IReadOnlyCollection<Guid> recordIds, IDictionary<string, JsonNode?> input, CancellationToken cancellationToken)
    {
        var ids = recordIds.Distinct().ToList();
        if (ids.Count == 0 || ids.Count > MaxBulkRecords)
        {
            throw RecordProblems.BulkSize.Problem($"A bulk edit takes 1 to {MaxBulkRecords} records.");
        }

        if (input.Count == 0)
        {
            throw RecordProblems.BulkNoValues.Problem("A bulk edit needs at least one value to set or clear.");
        }

        var catalog = await FieldCatalog.LoadAsync(db, entity, cancellationToken);
        var errors = new Dictionary<string, string[]>();
        var normalized = Validate(catalog, input, caller, errors, new JsonObject(), null);
        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors);
        }

        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var records = new List<Record>(ids.Count);
        foreach (var chunk in ids.Chunk(2000))
        {
            records.AddRange(await db.Set<Record>().FromSql($"SELECT * FROM records WHERE id = ANY({chunk}) FOR UPDATE").Where(r => r.Entity == entity).ToListAsync(cancellationToken));
        }

        if (records.Count != ids.Count)
        {
            var missing = ids.Except(records.Select(r => r.Id)).Take(20).ToList();
            throw new AppProblem(RecordProblems.BulkRecordsNotFound, $"{ids.Count - records.Count} of the records do not exist; nothing was changed.") { Extra = new { missing } };
        }

        foreach (var record in records)
        {
            var values = JsonNode.Parse(record.ValuesJson)!.AsObject();
            var changes = normalized
                .Select(c => (c.Field, Old: values[c.Field.Id.ToString()]?.DeepClone(), c.New))
                .Where(c => !JsonNode.DeepEquals(c.Old, c.New))
                .ToList();
            if (changes.Count > 0)
            {
                Apply(caller, record, values, changes, "value.set");
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return records.Count;
    }

    /// <summary>Makes <paramref name="current"/> (tracked) the organizations <paramref name="wanted"/>; true when that changed anything.</summary>
    public bool SetMemberships(Caller caller, Record customer, List<Membership> current, List<Guid>? wanted, bool audited)
    {
        if (wanted is null || current.Select(m => m.OrganizationId).ToHashSet().SetEquals(wanted))
        {
            return false;
        }

        var before = current.Select(m => m.OrganizationId).ToList();
        foreach (var gone in current.Where(m => !wanted.Contains(m.OrganizationId)).ToList())
        {
            db.Set<Membership>().Remove(gone);
            current.Remove(gone);
        }

        foreach (var orgId in wanted.Where(id => current.All(m => m.OrganizationId != id)))
        {
            var membership = new Membership { TenantId = caller.TenantId, CustomerId = customer.Id, OrganizationId = orgId };
            db.Set<Membership>().Add(membership);
            current.Add(membership);
        }

        if (audited)
        {
            audit.Add(caller.TenantId, caller.Actor, "record.updated", Subject(customer.Entity), customer.Id, null,
                new JsonObject { ["organizationIds"] = new JsonArray(before.Select(id => (JsonNode)JsonValue.Create(id.ToString())!).ToArray()) },
                new JsonObject { ["organizationIds"] = new JsonArray(wanted.Select(id => (JsonNode)JsonValue.Create(id.ToString())!).ToArray()) });
        }

        return true;
    }

    /// <summary>
    /// Adds (<paramref name="add"/>) or removes one membership of a tracked customer; audited as <c>membership.added</c>
    /// or <c>membership.removed</c> with the organization and, when given, what caused it (e.g. an email-domain rule); the
    /// customer's version moves on (so the mirror re-reads it). False when it already was so (nothing is written).
    /// </summary>
    public async Task<bool> ChangeMembershipAsync(Caller caller, Record customer, Guid organizationId, bool add, JsonObject? cause, CancellationToken cancellationToken)
    {
        var existing = await db.Set<Membership>().FindAsync([caller.TenantId, customer.Id, organizationId], cancellationToken);
        if ((existing is not null) == add)
        {
            return false;
        }

        if (add)
        {
            db.Set<Membership>().Add(new Membership { TenantId = caller.TenantId, CustomerId = customer.Id, OrganizationId = organizationId });
        }
        else
        {
            db.Set<Membership>().Remove(existing!);
        }

        var detail = new JsonObject { ["organizationId"] = organizationId.ToString() };
        foreach (var (key, value) in cause ?? [])
        {
            detail[key] = value?.DeepClone();
        }

        audit.Add(caller.TenantId, caller.Actor, add ? "membership.added" : "membership.removed", Subject(customer.Entity), customer.Id, null, null, detail);
        if (db.Entry(customer).State != EntityState.Added && db.Entry(customer).OriginalValues.GetValue<int>(nameof(Record.Version)) == customer.Version)
        {
            customer.Version++;
            customer.UpdatedAt = time.GetUtcNow();
        }

        return true;
    }

    /// <summary>Writes <paramref name="changes"/> into <paramref name="values"/> and the record (version + 1), with an audit row per field.</summary>
    public void Apply(Caller caller, Record record, JsonObject values, IReadOnlyList<(FieldDefinition Field, JsonNode? Old, JsonNode? New)> changes, string action)
    {
        foreach (var (field, oldValue, newValue) in changes)
        {
            var key = field.Id.ToString();
            if (newValue is null)
            {
                values.Remove(key);
            }
            else
            {
                values[key] = newValue.DeepClone();
            }

            audit.Add(caller.TenantId, caller.Actor, action, Subject(record.Entity), record.Id, field.Id, oldValue, newValue?.DeepClone());
        }

        record.ValuesJson = values.ToJsonString();
        record.Version++;
        record.UpdatedAt = time.GetUtcNow();
    }

    /// <summary>
    /// Checks each key/value against the catalog and what the caller may write; returns the changes against
    /// <paramref name="current"/> (null: every given value is a change) and fills <paramref name="errors"/> per key.
    /// </summary>
    private static List<(FieldDefinition Field, JsonNode? Old, JsonNode? New)> Validate(
        FieldCatalog catalog, IDictionary<string, JsonNode?> input, Caller caller, Dictionary<string, string[]> errors, JsonObject target, JsonObject? current)
    {
        var changes = new List<(FieldDefinition, JsonNode?, JsonNode?)>();
        foreach (var (key, raw) in input)
        {
            var field = catalog.ByKey(key);
            if (field is null || (caller.Role == AppRole.Customer && field.Visibility == FieldVisibility.Agents))
            {
                errors[key] = ["is not a field of this record"];
                continue;
            }

            if (field.Archived)
            {
                errors[key] = ["is archived and cannot be changed"];
                continue;
            }

            if (caller.Role == AppRole.Customer && field.Visibility != FieldVisibility.CustomersEdit)
            {
                errors[key] = ["cannot be changed by customers"];
                continue;
            }

            var (value, error) = FieldValues.Normalize(field, raw);
            if (error is not null)
            {
                errors[key] = [error];
                continue;
            }

            var old = current?[field.Id.ToString()]?.DeepClone();
            if (current is not null && JsonNode.DeepEquals(old, value))
            {
                continue;
            }

            if (current is null && value is not null)
            {
                target[field.Id.ToString()] = value.DeepClone();
            }

            changes.Add((field, old, value));
        }

        return changes;
    }

    public static string Subject(RecordEntity entity) => entity == RecordEntity.Organization ? "organization" : "customer";

    /// <summary>The name of a record's JSM identity in requests and CSV headers.</summary>
    public static string IdentityName(RecordEntity entity) => entity == RecordEntity.Organization ? "jsmId" : "accountId";
}
