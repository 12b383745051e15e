using System.Text.Json.Nodes;
using ConnectApp.Audit;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Records;

/// <summary>
/// The one place organizations and customers and their values are written. Every change is validated as a
/// whole first (a bad value changes nothing), then applied with its audit rows in one transaction; the search
/// mirror's outbox rows will join that same transaction here.
/// </summary>
internal sealed class RecordWriter(AppDbContext db, AuditLog audit, TimeProvider time)
{
    public const int MaxBulkRecords = 10_000;

    public sealed record NewRecord(string ExternalId, string Name, string? Email, IReadOnlyList<Guid>? OrganizationIds, IDictionary<string, JsonNode?>? Values);

    public async Task<Record> CreateAsync(Caller caller, RecordEntity entity, NewRecord input, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(input.ExternalId) || input.ExternalId.Length > 128)
        {
            errors[entity == RecordEntity.Organization ? "jsmId" : "accountId"] = ["is required (at most 128 characters)"];
        }

        if (string.IsNullOrWhiteSpace(input.Name) || input.Name.Length > 255)
        {
            errors["name"] = ["is required (at most 255 characters)"];
        }

        if (input.Email is { Length: > 254 })
        {
            errors["email"] = ["must be at most 254 characters"];
        }

        var catalog = await FieldCatalog.LoadAsync(db, entity, cancellationToken);
        var values = new JsonObject();
        var changes = Validate(catalog, input.Values ?? new Dictionary<string, JsonNode?>(), caller, errors, values, null);
        if (entity == RecordEntity.Customer && input.OrganizationIds is { Count: > 0 } orgIds)
        {
            var found = await db.Records.CountAsync(r => r.Entity == RecordEntity.Organization && orgIds.Contains(r.Id), cancellationToken);
            if (found != orgIds.Distinct().Count())
            {
                throw AppProblem.NotFound("An organization in organizationIds");
            }
        }

        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors);
        }

        if (await db.Records.AnyAsync(r => r.Entity == entity && r.ExternalId == input.ExternalId, cancellationToken))
        {
            throw AppProblem.Conflict("record.exists", $"A{(entity == RecordEntity.Organization ? "n organization" : " customer")} with that id already exists.");
        }

        var now = time.GetUtcNow();
        var record = new Record
        {
            Id = Guid.NewGuid(),
            TenantId = caller.TenantId,
            Entity = entity,
            ExternalId = input.ExternalId.Trim(),
            Name = input.Name.Trim(),
            Email = input.Email?.Trim(),
            ValuesJson = values.ToJsonString(),
            Version = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Records.Add(record);
        foreach (var orgId in input.OrganizationIds?.Distinct() ?? [])
        {
            db.Memberships.Add(new Membership { TenantId = caller.TenantId, CustomerId = record.Id, OrganizationId = orgId });
        }

        audit.Add(caller.TenantId, caller.Actor, "record.created", Subject(entity), record.Id, null, null, new JsonObject { ["name"] = record.Name });
        foreach (var (field, _, newValue) in changes)
        {
            audit.Add(caller.TenantId, caller.Actor, "value.set", Subject(entity), record.Id, field.Id, null, newValue?.DeepClone());
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (e.InnerException is Npgsql.PostgresException { SqlState: "23505" })
        {
            throw AppProblem.Conflict("record.exists", "A record with that id already exists.");
        }

        return record;
    }

    /// <summary>Sets or clears values on one record; <paramref name="expectedVersion"/> is the If-Match the caller read.</summary>
    public async Task<Record> SetValuesAsync(Caller caller, Record record, int expectedVersion, IDictionary<string, JsonNode?> input, CancellationToken cancellationToken, string action = "value.set")
    {
        if (record.Version != expectedVersion)
        {
            throw new AppProblem(412, "record.version_mismatch", $"The record changed since you read it (version {record.Version}, you sent {expectedVersion}); reload and try again.");
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
            throw new AppProblem(412, "record.version_mismatch", "The record changed while you saved; reload and try again.");
        }

        return record;
    }

    /// <summary>The same changes on up to 10,000 records of one entity: validated as a whole, applied all or nothing, audited per record.</summary>
    public async Task<int> BulkSetAsync(Caller caller, RecordEntity entity, IReadOnlyCollection<Guid> recordIds, IDictionary<string, JsonNode?> input, CancellationToken cancellationToken)
    {
        var ids = recordIds.Distinct().ToList();
        if (ids.Count == 0 || ids.Count > MaxBulkRecords)
        {
            throw AppProblem.BadRequest("bulk.size", $"A bulk edit takes 1 to {MaxBulkRecords} records.");
        }

        if (input.Count == 0)
        {
            throw AppProblem.BadRequest("bulk.no_values", "A bulk edit needs at least one value to set or clear.");
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
            records.AddRange(await db.Records.FromSql($"SELECT * FROM records WHERE id = ANY({chunk}) FOR UPDATE").Where(r => r.Entity == entity).ToListAsync(cancellationToken));
        }

        if (records.Count != ids.Count)
        {
            var missing = ids.Except(records.Select(r => r.Id)).Take(20).ToList();
            throw new AppProblem(404, "bulk.records_not_found", $"{ids.Count - records.Count} of the records do not exist; nothing was changed.") { Extra = new { missing } };
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

    /// <summary>
    /// One row of an import, cells already parsed by the CSV reader. A null member is a column the file does not
    /// have: that part of the record is left as it is. Values hold only the fields the file has columns for.
    /// </summary>
    public sealed record ImportRow(
        int Row, string ExternalId, string? Name, bool HasEmail, string? Email, IReadOnlyList<string>? OrganizationJsmIds, IReadOnlyList<ImportCell> Values);

    /// <summary>
    /// A field cell: its text, and the value FieldValues.FromText made of it or why it could not. A cell that could not
    /// be parsed is still "unchanged" when it is exactly the text of the record's current value (a retired option, a
    /// number outside a since-tightened range): re-importing an export must not fail on values the record already has.
    /// </summary>
    public sealed record ImportCell(FieldDefinition Field, string Text, JsonNode? Value, string? Error);

    public sealed record ImportRowError(int Row, string? Column, string Reason);

    public sealed record ImportBatchResult(int Created, int Updated, IReadOnlyList<ImportRowError> Errors);

    /// <summary>
    /// Creates or updates records of one entity from import rows, matched by JSM id, inside the caller's transaction
    /// (the importer commits its progress with them). A row with any error changes nothing; an unchanged row writes
    /// nothing; every change is audited per record and field, with "value.imported". Rows apply in file order, so a
    /// later row for the same record sees the earlier one.
    /// </summary>
    public async Task<ImportBatchResult> ImportBatchAsync(Caller caller, RecordEntity entity, IReadOnlyList<ImportRow> rows, CancellationToken cancellationToken)
    {
        var errors = new List<ImportRowError>();
        var externalIds = rows.Select(r => r.ExternalId).Distinct().ToArray();
        var entityName = entity.ToString();
        var records = (await db.Records.FromSql($"SELECT * FROM records WHERE entity = {entityName} AND external_id = ANY({externalIds}) FOR UPDATE")
            .ToListAsync(cancellationToken)).ToDictionary(r => r.ExternalId, StringComparer.Ordinal);

        var jsmIds = rows.SelectMany(r => r.OrganizationJsmIds ?? []).Distinct().ToArray();
        var organizations = jsmIds.Length == 0 ? [] : await db.Records.AsNoTracking()
            .Where(r => r.Entity == RecordEntity.Organization && jsmIds.Contains(r.ExternalId))
            .ToDictionaryAsync(r => r.ExternalId, r => r.Id, StringComparer.Ordinal, cancellationToken);
        var memberships = new Dictionary<Guid, List<Membership>>();
        if (entity == RecordEntity.Customer && rows.Any(r => r.OrganizationJsmIds is not null))
        {
            var customerIds = records.Values.Select(r => r.Id).ToList();
            foreach (var m in await db.Memberships.Where(m => customerIds.Contains(m.CustomerId)).ToListAsync(cancellationToken))
            {
                (memberships.TryGetValue(m.CustomerId, out var list) ? list : memberships[m.CustomerId] = []).Add(m);
            }
        }

        var identityColumn = entity == RecordEntity.Organization ? "jsmId" : "accountId";
        var now = time.GetUtcNow();
        int created = 0, updated = 0;
        foreach (var row in rows)
        {
            var rowErrors = new List<ImportRowError>();
            records.TryGetValue(row.ExternalId, out var record);
            var name = row.Name?.Trim();
            var email = row.HasEmail && !string.IsNullOrWhiteSpace(row.Email) ? row.Email.Trim() : null;
            if (row.ExternalId.Length is 0 or > 128)
            {
                rowErrors.Add(new(row.Row, identityColumn, "is required (at most 128 characters)"));
            }

            if (name is { Length: > 255 })
            {
                rowErrors.Add(new(row.Row, "name", "must be at most 255 characters"));
            }
            else if (record is null && string.IsNullOrEmpty(name))
            {
                rowErrors.Add(new(row.Row, "name", "is required for a new record"));
            }

            if (email is { Length: > 254 })
            {
                rowErrors.Add(new(row.Row, "email", "must be at most 254 characters"));
            }

            List<Guid>? orgIds = null;
            if (row.OrganizationJsmIds is { } wanted)
            {
                orgIds = [];
                foreach (var jsmId in wanted)
                {
                    if (!organizations.TryGetValue(jsmId, out var orgId))
                    {
                        rowErrors.Add(new(row.Row, "organizations", $"has an unknown organization: {jsmId}"));
                    }
                    else if (!orgIds.Contains(orgId))
                    {
                        orgIds.Add(orgId);
                    }
                }
            }

            var current = record is null ? null : JsonNode.Parse(record.ValuesJson)!.AsObject();
            var cells = new List<ImportCell>(row.Values.Count);
            foreach (var cell in row.Values)
            {
                if (cell.Field.Archived)
                {
                    rowErrors.Add(new(row.Row, cell.Field.Key, "is archived and cannot be changed"));
                }
                else if (cell.Error is null)
                {
                    cells.Add(cell);
                }
                else if (current is null || FieldValues.ToText(cell.Field, current[cell.Field.Id.ToString()]) != cell.Text)
                {
                    rowErrors.Add(new(row.Row, cell.Field.Key, cell.Error));
                }
            }

            if (rowErrors.Count > 0)
            {
                errors.AddRange(rowErrors);
                continue;
            }

            if (record is null)
            {
                record = CreateImported(caller, entity, row.ExternalId, name!, email, cells, now);
                records[record.ExternalId] = record;
                memberships[record.Id] = [];
                SetMemberships(caller, record, memberships[record.Id], orgIds, audited: false);
                created++;
                continue;
            }

            var changed = false;
            if (!string.IsNullOrEmpty(name) && name != record.Name)
            {
                audit.Add(caller.TenantId, caller.Actor, "record.updated", Subject(entity), record.Id, null, new JsonObject { ["name"] = record.Name }, new JsonObject { ["name"] = name });
                record.Name = name;
                changed = true;
            }

            if (row.HasEmail && email != record.Email)
            {
                // The address itself stays out of the audit: it is personal data that Atlassian may ask us to erase.
                audit.Add(caller.TenantId, caller.Actor, "record.updated", Subject(entity), record.Id, null, null, new JsonObject { ["email"] = email is null ? "cleared" : "changed" });
                record.Email = email;
                changed = true;
            }

            if (orgIds is not null)
            {
                changed |= SetMemberships(caller, record, memberships.TryGetValue(record.Id, out var members) ? members : memberships[record.Id] = [], orgIds, audited: true);
            }

            var values = current!;
            var changes = cells
                .Select(v => (v.Field, Old: values[v.Field.Id.ToString()]?.DeepClone(), New: v.Value))
                .Where(c => !JsonNode.DeepEquals(c.Old, c.New))
                .ToList();
            if (changes.Count > 0)
            {
                Apply(caller, record, values, changes, "value.imported");
            }
            else if (changed)
            {
                record.Version++;
                record.UpdatedAt = now;
            }

            updated += changes.Count > 0 || changed ? 1 : 0;
        }

        await db.SaveChangesAsync(cancellationToken);
        return new ImportBatchResult(created, updated, errors);
    }

    private Record CreateImported(Caller caller, RecordEntity entity, string externalId, string name, string? email, IReadOnlyList<ImportCell> input, DateTimeOffset now)
    {
        var values = new JsonObject();
        foreach (var cell in input.Where(v => v.Value is not null))
        {
            values[cell.Field.Id.ToString()] = cell.Value!.DeepClone();
        }

        var record = new Record
        {
            Id = Guid.NewGuid(),
            TenantId = caller.TenantId,
            Entity = entity,
            ExternalId = externalId,
            Name = name,
            Email = email,
            ValuesJson = values.ToJsonString(),
            Version = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Records.Add(record);
        audit.Add(caller.TenantId, caller.Actor, "record.created", Subject(entity), record.Id, null, null, new JsonObject { ["name"] = record.Name });
        foreach (var cell in input.Where(v => v.Value is not null))
        {
            audit.Add(caller.TenantId, caller.Actor, "value.imported", Subject(entity), record.Id, cell.Field.Id, null, cell.Value!.DeepClone());
        }

        return record;
    }

    /// <summary>Makes <paramref name="current"/> (tracked) the organizations <paramref name="wanted"/>; true when that changed anything.</summary>
    private bool SetMemberships(Caller caller, Record customer, List<Membership> current, List<Guid>? wanted, bool audited)
    {
        if (wanted is null || current.Select(m => m.OrganizationId).ToHashSet().SetEquals(wanted))
        {
            return false;
        }

        var before = current.Select(m => m.OrganizationId).ToList();
        foreach (var gone in current.Where(m => !wanted.Contains(m.OrganizationId)).ToList())
        {
            db.Memberships.Remove(gone);
            current.Remove(gone);
        }

        foreach (var orgId in wanted.Where(id => current.All(m => m.OrganizationId != id)))
        {
            var membership = new Membership { TenantId = caller.TenantId, CustomerId = customer.Id, OrganizationId = orgId };
            db.Memberships.Add(membership);
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

    private void Apply(Caller caller, Record record, JsonObject values, IReadOnlyList<(FieldDefinition Field, JsonNode? Old, JsonNode? New)> changes, string action)
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
}
