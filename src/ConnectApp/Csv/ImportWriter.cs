using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Audit;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Records;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Csv;

/// <summary>
/// Applies a batch of CSV rows to organizations or customers, with <see cref="RecordWriter"/>'s primitives (value
/// changes, memberships, audit), inside the importer's transaction so a batch commits with its progress.
/// </summary>
internal sealed class ImportWriter(AppDbContext db, RecordWriter writer, AuditLog audit, TimeProvider time)
{
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
    public async Task<ImportBatchResult> ApplyAsync(Caller caller, RecordEntity entity, IReadOnlyList<ImportRow> rows, CancellationToken cancellationToken)
    {
        var errors = new List<ImportRowError>();
        var externalIds = rows.Select(r => r.ExternalId).Distinct().ToArray();
        var entityName = entity.ToString();
        var records = (await db.Set<Record>().FromSql($"SELECT * FROM records WHERE entity = {entityName} AND external_id = ANY({externalIds}) FOR UPDATE")
            .ToListAsync(cancellationToken)).ToDictionary(r => r.ExternalId, StringComparer.Ordinal);

        var jsmIds = rows.SelectMany(r => r.OrganizationJsmIds ?? []).Distinct().ToArray();
        var organizations = jsmIds.Length == 0 ? [] : await db.Set<Record>().AsNoTracking()
            .Where(r => r.Entity == RecordEntity.Organization && jsmIds.Contains(r.ExternalId))
            .ToDictionaryAsync(r => r.ExternalId, r => r.Id, StringComparer.Ordinal, cancellationToken);
        var memberships = new Dictionary<Guid, List<Membership>>();
        if (entity == RecordEntity.Customer && rows.Any(r => r.OrganizationJsmIds is not null))
        {
            var customerIds = records.Values.Select(r => r.Id).ToList();
            foreach (var m in await db.Set<Membership>().Where(m => customerIds.Contains(m.CustomerId)).ToListAsync(cancellationToken))
            {
                (memberships.TryGetValue(m.CustomerId, out var list) ? list : memberships[m.CustomerId] = []).Add(m);
            }
        }

        var identityColumn = RecordWriter.IdentityName(entity);
        var now = time.GetUtcNow();
        int created = 0, updated = 0;
        foreach (var row in rows)
        {
            var rowErrors = new List<ImportRowError>();
            records.TryGetValue(row.ExternalId, out var record);
            var name = row.Name?.Trim();
            var email = row.HasEmail && !string.IsNullOrWhiteSpace(row.Email) ? row.Email.Trim() : null;
            if (row.ExternalId.Length is 0 or > RecordLimits.ExternalId)
            {
                rowErrors.Add(new(row.Row, identityColumn, $"is required (at most {RecordLimits.ExternalId} characters)"));
            }

            if (name is { Length: > RecordLimits.Name })
            {
                rowErrors.Add(new(row.Row, "name", $"must be at most {RecordLimits.Name} characters"));
            }
            else if (record is null && string.IsNullOrEmpty(name))
            {
                rowErrors.Add(new(row.Row, "name", "is required for a new record"));
            }

            if (email is { Length: > RecordLimits.Email })
            {
                rowErrors.Add(new(row.Row, "email", $"must be at most {RecordLimits.Email} characters"));
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
                writer.SetMemberships(caller, record, memberships[record.Id], orgIds, audited: false);
                created++;
                continue;
            }

            var changed = false;
            if (!string.IsNullOrEmpty(name) && name != record.Name)
            {
                audit.Add(caller.TenantId, caller.Actor, "record.updated", RecordWriter.Subject(entity), record.Id, null, new JsonObject { ["name"] = record.Name }, new JsonObject { ["name"] = name });
                record.Name = name;
                changed = true;
            }

            if (row.HasEmail && email != record.Email)
            {
                // The address itself stays out of the audit: it is personal data that Atlassian may ask us to erase.
                audit.Add(caller.TenantId, caller.Actor, "record.updated", RecordWriter.Subject(entity), record.Id, null, null, new JsonObject { ["email"] = email is null ? "cleared" : "changed" });
                record.Email = email;
                changed = true;
            }

            if (orgIds is not null)
            {
                changed |= writer.SetMemberships(caller, record, memberships.TryGetValue(record.Id, out var members) ? members : memberships[record.Id] = [], orgIds, audited: true);
            }

            var values = current!;
            var changes = cells
                .Select(v => (v.Field, Old: values[v.Field.Id.ToString()]?.DeepClone(), New: v.Value))
                .Where(c => !JsonNode.DeepEquals(c.Old, c.New))
                .ToList();
            if (changes.Count > 0)
            {
                writer.Apply(caller, record, values, changes, "value.imported");
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

        var record = Record.New(caller.TenantId, entity, externalId, name, email, values.ToJsonString(), now);
        db.Set<Record>().Add(record);
        audit.Add(caller.TenantId, caller.Actor, "record.created", RecordWriter.Subject(entity), record.Id, null, null, new JsonObject { ["name"] = record.Name });
        foreach (var cell in input.Where(v => v.Value is not null))
        {
            audit.Add(caller.TenantId, caller.Actor, "value.imported", RecordWriter.Subject(entity), record.Id, cell.Field.Id, null, cell.Value!.DeepClone());
        }

        return record;
    }
}
