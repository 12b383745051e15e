using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Audit;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Records;

/// <summary>
/// Changes a field's type together with every stored value of it, in one transaction: the definition through
/// <see cref="FieldDefinitionWriter"/>, the values here, where records are written.
/// </summary>
internal sealed class FieldTypeChange(AppDbContext db, FieldDefinitionWriter fields, AuditLog audit, TimeProvider time)
{
    public sealed record Request(FieldType Type, decimal? Min = null, decimal? Max = null, int? Decimals = null);

    /// <summary>
    /// Every stored value is converted through its text form; the change happens only if every value converts
    /// without loss (its text form is unchanged). Otherwise 409 lists the values that would not convert, and nothing
    /// changes. Converting to a select creates options from the distinct values.
    /// </summary>
    public async Task<FieldDefinition> ChangeAsync(Caller caller, Guid fieldId, int expectedVersion, Request request, CancellationToken cancellationToken)
    {
        var (newType, min, max, decimals) = request;
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var field = await fields.LoadAsync(fieldId, expectedVersion, cancellationToken);
        if (field.Type == newType)
        {
            throw FieldProblems.SameType.Problem("The field already has that type.");
        }

        var errors = new Dictionary<string, string[]>();
        FieldDefinitionWriter.ValidateCommon(field.Label, field.Description, min, max, decimals, newType, errors);
        if (errors.Count > 0)
        {
            throw Problems.AppProblem.Validation(errors);
        }

        var key = field.Id.ToString();
        var records = await db.Set<Record>().FromSql($"SELECT * FROM records WHERE entity = {field.Entity.ToString()} AND jsonb_exists(field_values, {key}) FOR UPDATE").ToListAsync(cancellationToken);
        var target = new FieldDefinition
        {
            Id = field.Id,
            TenantId = field.TenantId,
            Entity = field.Entity,
            Key = field.Key,
            Label = field.Label,
            Type = newType,
            Required = false,
            Visibility = field.Visibility,
            Min = min,
            Max = max,
            Decimals = decimals,
        };
        var texts = records.Select(r => (Record: r, Text: FieldValues.ToText(field, JsonNode.Parse(r.ValuesJson)![key]))).ToList();
        if (newType.HasOptions())
        {
            target.Options.AddRange(field.Type.HasOptions()
                ? field.Options
                : texts.SelectMany(t => newType == FieldType.MultiSelect ? t.Text.Split(FieldValues.MultiSeparator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [t.Text])
                    .Where(t => t.Length is > 0 and <= FieldDefinitionWriter.MaxOptionLabel)
                    .Distinct(StringComparer.OrdinalIgnoreCase)
                    .Select((label, i) => new FieldOption { Id = Guid.NewGuid(), TenantId = field.TenantId, FieldId = field.Id, Label = label, Position = i }));
            if (target.Options.Count > FieldDefinitionWriter.MaxOptionsPerField)
            {
                throw FieldProblems.OptionLimit.Problem($"Converting would create {target.Options.Count} options; at most {FieldDefinitionWriter.MaxOptionsPerField} are allowed.");
            }
        }

        var converted = new List<(Record Record, JsonNode? Old, JsonNode New)>();
        var refused = new List<object>();
        foreach (var (record, text) in texts)
        {
            var (value, error) = FieldValues.FromText(target, text);
            if (value is null || error is not null || FieldValues.ToText(target, value) != text)
            {
                refused.Add(new { recordId = record.Id, name = record.Name, value = text, reason = error ?? $"would become '{(value is null ? string.Empty : FieldValues.ToText(target, value))}'" });
                continue;
            }

            converted.Add((record, JsonNode.Parse(record.ValuesJson)![key]?.DeepClone(), value));
        }

        if (refused.Count > 0)
        {
            throw new Problems.AppProblem(FieldProblems.TypeChangeLossy, $"{refused.Count} value(s) would not convert to {newType} without loss; nothing was changed.")
            {
                Extra = new { total = refused.Count, values = refused.Take(200) },
            };
        }

        var now = time.GetUtcNow();
        foreach (var (record, old, value) in converted)
        {
            var values = JsonNode.Parse(record.ValuesJson)!.AsObject();
            values[key] = value.DeepClone();
            record.ValuesJson = values.ToJsonString();
            record.Version++;
            record.UpdatedAt = now;
            audit.Add(caller.TenantId, caller.Actor, "value.converted", RecordWriter.Subject(record.Entity), record.Id, field.Id, old, value.DeepClone());
        }

        fields.ApplyTypeChange(caller, field, newType, min, max, decimals, target.Options);
        await fields.SaveAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return field;
    }
}
