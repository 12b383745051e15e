using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ConnectApp.Api;
using ConnectApp.Audit;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Fields;

/// <summary>
/// The one place field definitions and their options are written: validation, limits, positions, type changes
/// with value conversion, and the audit rows, each change in one transaction.
/// </summary>
internal sealed partial class FieldDefinitionWriter(AppDbContext db, AuditLog audit, TimeProvider time)
{
    public const int MaxFieldsPerTenant = 1_000;
    public const int MaxOptionsPerField = 1_000;
    public const int MaxOptionLabel = 255;

    public sealed record FieldInput(
        RecordEntity Entity, string Key, string Label, string? Description, FieldType Type, bool Required, FieldVisibility Visibility,
        decimal? Min, decimal? Max, int? Decimals, IReadOnlyList<string>? Options, bool JqlSearchable = false);

    /// <summary>A PATCH of a field; <c>jqlSearchable</c>: its values go into the JQL property of the reporters' issues (readable by any user of the site).</summary>
    public sealed record FieldUpdate(string? Label, string? Description, bool? Required, FieldVisibility? Visibility, bool? Archived, decimal? Min, decimal? Max, int? Decimals, bool? JqlSearchable = null);

    public async Task<FieldDefinition> CreateAsync(Caller caller, FieldInput input, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (input.Key is null || !KeyPattern().IsMatch(input.Key))
        {
            errors["key"] = ["must start with a lowercase letter and hold only a-z, 0-9 and _ (at most 64)"];
        }

        ValidateCommon(input.Label, input.Description, input.Min, input.Max, input.Decimals, input.Type, errors);
        var options = input.Options ?? [];
        if (options.Count > 0 && !input.Type.HasOptions())
        {
            errors["options"] = ["only select and multi-select fields have options"];
        }

        ValidateOptionLabels(options, errors);
        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors);
        }

        if (await db.Set<FieldDefinition>().CountAsync(cancellationToken) >= MaxFieldsPerTenant)
        {
            throw FieldProblems.Limit.Problem($"A site can have at most {MaxFieldsPerTenant} fields (archived ones count).");
        }

        if (await db.Set<FieldDefinition>().AnyAsync(f => f.Entity == input.Entity && f.Key == input.Key, cancellationToken))
        {
            throw FieldProblems.KeyTaken.Problem($"A field with key '{input.Key}' already exists (keys stay taken when archived).");
        }

        var position = await db.Set<FieldDefinition>().Where(f => f.Entity == input.Entity).MaxAsync(f => (int?)f.Position, cancellationToken) ?? -1;
        var now = time.GetUtcNow();
        var field = new FieldDefinition
        {
            Id = Guid.NewGuid(),
            TenantId = caller.TenantId,
            Entity = input.Entity,
            Key = input.Key!,
            Label = input.Label.Trim(),
            Description = input.Description?.Trim(),
            Type = input.Type,
            Required = input.Required,
            Visibility = input.Visibility,
            JqlSearchable = input.JqlSearchable,
            Position = position + 1,
            Min = input.Type == FieldType.Number ? input.Min : null,
            Max = input.Type == FieldType.Number ? input.Max : null,
            Decimals = input.Type == FieldType.Number ? input.Decimals : null,
            Version = 1,
            CreatedAt = now,
            UpdatedAt = now,
        };
        field.Options.AddRange(options.Select((label, i) => new FieldOption { Id = Guid.NewGuid(), TenantId = caller.TenantId, FieldId = field.Id, Label = label.Trim(), Position = i }));
        db.Set<FieldDefinition>().Add(field);
        audit.Add(caller.TenantId, caller.Actor, "field.created", "field", null, field.Id, null, Snapshot(field));
        await SaveAsync(cancellationToken);
        return field;
    }

    public async Task<FieldDefinition> UpdateAsync(Caller caller, Guid id, int expectedVersion, FieldUpdate update, CancellationToken cancellationToken)
    {
        var field = await LoadAsync(id, expectedVersion, cancellationToken);
        var errors = new Dictionary<string, string[]>();
        ValidateCommon(update.Label ?? field.Label, update.Description, update.Min ?? field.Min, update.Max ?? field.Max, update.Decimals ?? field.Decimals, field.Type, errors);
        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors);
        }

        var before = Snapshot(field);
        field.Label = update.Label?.Trim() ?? field.Label;
        field.Description = update.Description is null ? field.Description : update.Description.Trim();
        field.Required = update.Required ?? field.Required;
        field.Visibility = update.Visibility ?? field.Visibility;
        field.Archived = update.Archived ?? field.Archived;
        field.JqlSearchable = update.JqlSearchable ?? field.JqlSearchable;
        if (field.Type == FieldType.Number)
        {
            field.Min = update.Min ?? field.Min;
            field.Max = update.Max ?? field.Max;
            field.Decimals = update.Decimals ?? field.Decimals;
        }

        Touch(field);
        audit.Add(caller.TenantId, caller.Actor, "field.updated", "field", null, field.Id, before, Snapshot(field));
        await SaveAsync(cancellationToken);
        return field;
    }

    public async Task<IReadOnlyList<FieldDefinition>> ReorderAsync(Caller caller, RecordEntity entity, IReadOnlyList<Guid> orderedIds, CancellationToken cancellationToken)
    {
        var fields = await db.Set<FieldDefinition>().Where(f => f.Entity == entity).ToListAsync(cancellationToken);
        if (orderedIds.Any(id => fields.All(f => f.Id != id)))
        {
            throw AppProblem.NotFound("A field in fieldIds");
        }

        if (orderedIds.Count != fields.Count || orderedIds.Distinct().Count() != fields.Count || orderedIds.Any(id => fields.All(f => f.Id != id)))
        {
            throw FieldProblems.ReorderMismatch.Problem("Send every field id of the entity exactly once, in the new order.");
        }

        for (var i = 0; i < orderedIds.Count; i++)
        {
            var field = fields.Single(f => f.Id == orderedIds[i]);
            if (field.Position != i)
            {
                field.Position = i;
                Touch(field);
            }
        }

        audit.Add(caller.TenantId, caller.Actor, "field.reordered", "field", null, null, null, new JsonArray(orderedIds.Select(i => (JsonNode)JsonValue.Create(i.ToString())!).ToArray()));
        await SaveAsync(cancellationToken);
        return fields.OrderBy(f => f.Position).ToList();
    }

    public async Task<FieldDefinition> AddOptionAsync(Caller caller, Guid fieldId, int expectedVersion, string label, CancellationToken cancellationToken)
    {
        var field = await LoadAsync(fieldId, expectedVersion, cancellationToken);
        if (!field.Type.HasOptions())
        {
            throw FieldProblems.NoOptions.Problem("Only select and multi-select fields have options.");
        }

        if (field.Options.Count >= MaxOptionsPerField)
        {
            throw FieldProblems.OptionLimit.Problem($"A field can have at most {MaxOptionsPerField} options (retired ones count).");
        }

        var errors = new Dictionary<string, string[]>();
        ValidateOptionLabels([.. field.Options.Where(o => !o.Retired).Select(o => o.Label), label], errors);
        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors);
        }

        var option = new FieldOption { Id = Guid.NewGuid(), TenantId = caller.TenantId, FieldId = field.Id, Label = label.Trim(), Position = field.Options.Count == 0 ? 0 : field.Options.Max(o => o.Position) + 1 };
        db.Set<FieldOption>().Add(option); // EF's fix-up adds it to field.Options
        Touch(field);
        audit.Add(caller.TenantId, caller.Actor, "option.added", "field", null, field.Id, null, new JsonObject { ["id"] = option.Id.ToString(), ["label"] = option.Label });
        await SaveAsync(cancellationToken);
        return field;
    }

    /// <summary>Renames and/or retires (or reinstates) an option. Stored values keep the option id, so nothing is lost.</summary>
    public async Task<FieldDefinition> UpdateOptionAsync(Caller caller, Guid fieldId, Guid optionId, int expectedVersion, string? label, bool? retired, CancellationToken cancellationToken)
    {
        var field = await LoadAsync(fieldId, expectedVersion, cancellationToken);
        var option = field.Options.FirstOrDefault(o => o.Id == optionId) ?? throw AppProblem.NotFound("The option");
        var before = new JsonObject { ["label"] = option.Label, ["retired"] = option.Retired };
        if (label is not null)
        {
            var errors = new Dictionary<string, string[]>();
            ValidateOptionLabels([.. field.Options.Where(o => !o.Retired && o.Id != optionId).Select(o => o.Label), label], errors);
            if (errors.Count > 0)
            {
                throw AppProblem.Validation(errors);
            }

            option.Label = label.Trim();
        }

        option.Retired = retired ?? option.Retired;
        Touch(field);
        audit.Add(caller.TenantId, caller.Actor, "option.updated", "field", null, field.Id, before, new JsonObject { ["id"] = option.Id.ToString(), ["label"] = option.Label, ["retired"] = option.Retired });
        await SaveAsync(cancellationToken);
        return field;
    }

    public async Task<FieldDefinition> ReorderOptionsAsync(Caller caller, Guid fieldId, int expectedVersion, IReadOnlyList<Guid> orderedIds, CancellationToken cancellationToken)
    {
        var field = await LoadAsync(fieldId, expectedVersion, cancellationToken);
        if (orderedIds.Any(id => field.Options.All(o => o.Id != id)))
        {
            throw AppProblem.NotFound("An option in optionIds");
        }

        if (orderedIds.Count != field.Options.Count || orderedIds.Distinct().Count() != field.Options.Count || orderedIds.Any(id => field.Options.All(o => o.Id != id)))
        {
            throw FieldProblems.OptionReorderMismatch.Problem("Send every option id of the field exactly once, in the new order.");
        }

        for (var i = 0; i < orderedIds.Count; i++)
        {
            field.Options.Single(o => o.Id == orderedIds[i]).Position = i;
        }

        Touch(field);
        audit.Add(caller.TenantId, caller.Actor, "option.reordered", "field", null, field.Id, null, new JsonArray(orderedIds.Select(i => (JsonNode)JsonValue.Create(i.ToString())!).ToArray()));
        await SaveAsync(cancellationToken);
        return field;
    }

    /// <summary>
    /// Makes <paramref name="field"/> (loaded with <see cref="LoadAsync"/>) the <paramref name="newType"/>, with the
    /// options a select needs, audited as field.type_changed. The values are the caller's to convert, in the same
    /// transaction (Records' FieldTypeChange does both); nothing is saved here.
    /// </summary>
    public void ApplyTypeChange(Caller caller, FieldDefinition field, FieldType newType, decimal? min, decimal? max, int? decimals, IReadOnlyList<FieldOption> newOptions)
    {
        var before = Snapshot(field);
        if (newType.HasOptions() && !field.Type.HasOptions())
        {
            db.Set<FieldOption>().AddRange(newOptions);
        }
        else if (!newType.HasOptions() && field.Type.HasOptions())
        {
            db.Set<FieldOption>().RemoveRange(field.Options);
        }

        field.Type = newType;
        field.Min = newType == FieldType.Number ? min : null;
        field.Max = newType == FieldType.Number ? max : null;
        field.Decimals = newType == FieldType.Number ? decimals : null;
        Touch(field);
        audit.Add(caller.TenantId, caller.Actor, "field.type_changed", "field", null, field.Id, before, Snapshot(field));
    }

    /// <summary>The field with its options, tracked, if it is still at <paramref name="expectedVersion"/> (else 412).</summary>
    public async Task<FieldDefinition> LoadAsync(Guid id, int expectedVersion, CancellationToken cancellationToken)
    {
        var field = await db.Set<FieldDefinition>().Include(f => f.Options).SingleOrDefaultAsync(f => f.Id == id, cancellationToken)
            ?? throw AppProblem.NotFound("The field");
        if (field.Version != expectedVersion)
        {
            throw FieldProblems.VersionMismatch.Problem($"The field changed since you read it (version {field.Version}); reload and try again.");
        }

        return field;
    }

    private void Touch(FieldDefinition field)
    {
        field.Version++;
        field.UpdatedAt = time.GetUtcNow();
    }

    public async Task SaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken); // the cached catalogs are forgotten at commit (TenantChanges)
        }
        catch (DbUpdateConcurrencyException)
        {
            throw FieldProblems.VersionMismatch.Problem("The field changed while you saved; reload and try again.");
        }
        catch (DbUpdateException e) when (e.InnerException is Npgsql.PostgresException { SqlState: "23505" })
        {
            throw FieldProblems.KeyTaken.Problem("A field with that key already exists.");
        }
    }

    public static void ValidateCommon(string label, string? description, decimal? min, decimal? max, int? decimals, FieldType type, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(label) || label.Length > 255)
        {
            errors["label"] = ["is required (at most 255 characters)"];
        }

        if (description is { Length: > 2000 })
        {
            errors["description"] = ["must be at most 2000 characters"];
        }

        if (type != FieldType.Number && (min is not null || max is not null || decimals is not null))
        {
            errors["min"] = ["min, max and decimals apply to number fields only"];
        }

        if (min is not null && max is not null && min > max)
        {
            errors["min"] = ["must not be greater than max"];
        }

        if (decimals is < 0 or > 10)
        {
            errors["decimals"] = ["must be between 0 and 10"];
        }
    }

    private static void ValidateOptionLabels(IReadOnlyList<string> labels, Dictionary<string, string[]> errors)
    {
        if (labels.Count > MaxOptionsPerField)
        {
            errors["options"] = [$"at most {MaxOptionsPerField} options"];
            return;
        }

        if (labels.Any(l => l is null))
        {
            errors["options"] = [$"option labels must be 1 to {MaxOptionLabel} characters (null is not a label)"];
            return;
        }

        var problems = new List<string>();
        if (labels.Any(l => string.IsNullOrWhiteSpace(l) || l.Trim().Length > MaxOptionLabel))
        {
            problems.Add($"option labels must be 1 to {MaxOptionLabel} characters");
        }

        if (labels.Any(l => l.Contains(FieldValues.MultiSeparator, StringComparison.Ordinal)))
        {
            problems.Add($"option labels must not contain '{FieldValues.MultiSeparator}' (it separates options in CSV)");
        }

        if (labels.Select(l => l.Trim()).GroupBy(l => l, StringComparer.OrdinalIgnoreCase).Any(g => g.Count() > 1))
        {
            problems.Add("option labels must be unique (ignoring case)");
        }

        if (problems.Count > 0)
        {
            errors["options"] = [.. problems];
        }
    }

    private static JsonNode Snapshot(FieldDefinition f) => JsonSerializer.SerializeToNode(new
    {
        f.Key,
        f.Label,
        f.Description,
        type = f.Type.ToString(),
        f.Required,
        visibility = f.Visibility.ToString(),
        f.Archived,
        f.JqlSearchable,
        f.Min,
        f.Max,
        f.Decimals,
    })!;

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex KeyPattern();
}
