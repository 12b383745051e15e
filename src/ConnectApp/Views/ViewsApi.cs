using System.Text.Json;
using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Licensing;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using ConnectApp.Search;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnectApp.Views;

/// <summary>
/// Saved directory views and column choices. Both belong to the agent who made them (their accountId): API tokens are
/// refused as on every endpoint not opened to them, and a context token without a user gets 403 <c>view.person_only</c>. A view's search is checked as the directory search checks it, so a saved view never
/// holds a search the directory would refuse at the time it is saved. Neither changes the site's data, so both work on
/// an unlicensed site.
/// </summary>
internal static class ViewsApi
{
    public const int MaxNameLength = 100;

    public const int MaxViewsPerPerson = 100;

    public const int MaxColumns = 50;

    /// <summary>What a view restores: the search (as <c>POST /api/search/…</c> takes it), whether records removed from JSM are shown, and the columns (field keys, in order).</summary>
    public sealed record ViewDefinition(string? Q, IReadOnlyList<SearchApi.FilterRequest>? Filters, string? Sort, bool? ShowRemoved, IReadOnlyList<string>? Columns);

    public sealed record ViewRequest(RecordEntity? Entity, string? Name, bool? Shared, ViewDefinition? Definition);

    /// <summary>A view the caller may pick: their own, and those other agents shared. <c>mine</c>: the caller may change it.</summary>
    public sealed record ViewItem(Guid Id, RecordEntity Entity, string Name, bool Shared, bool Mine, ViewDefinition Definition, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    public sealed record ColumnsRequest(IReadOnlyList<string>? Columns);

    /// <summary>The caller's column choice per directory tab; null where they have not chosen (the directory then shows its default).</summary>
    public sealed record ColumnChoice(IReadOnlyList<string>? Organization, IReadOnlyList<string>? Customer);

    public static void Map(IEndpointRouteBuilder api)
    {
        var views = api.MapGroup("/views").WithTags("Saved views").RequireAuthorization(RolesFeature.Agent).AllowUnlicensed()
            .Problems(ViewProblems.PersonOnly);
        views.MapGet("/", ListAsync).WithSummary("The caller's views and the views other agents shared, by name (entity=organization|customer narrows)")
            .Problems(CommonProblems.ValidationFailed);
        views.MapPost("/", CreateAsync).WithSummary("Save a view: a directory search and its columns, private or shared with the site's agents")
            .Problems(CommonProblems.ValidationFailed, ViewProblems.Duplicate, ViewProblems.Limit);
        views.MapPut("/{id:guid}", UpdateAsync).WithSummary("Change one of the caller's views (name, sharing, search, columns)")
            .Problems(CommonProblems.NotFound, CommonProblems.ValidationFailed, ViewProblems.NotOwner, ViewProblems.Duplicate);
        views.MapDelete("/{id:guid}", DeleteAsync).WithSummary("Delete one of the caller's views (a site admin may delete any shared view)")
            .Problems(CommonProblems.NotFound, ViewProblems.NotOwner);

        var columns = api.MapGroup("/me/columns").WithTags("Saved views").RequireAuthorization(RolesFeature.Agent).AllowUnlicensed()
            .Problems(ViewProblems.PersonOnly);
        columns.MapGet("/", ColumnsAsync).WithSummary("The caller's directory columns per tab");
        columns.MapPut("/organizations", (ColumnsRequest body, Caller caller, AppDbContext db, TimeProvider time, CancellationToken ct) => SetColumnsAsync(RecordEntity.Organization, body, caller, db, time, ct))
            .WithSummary("Choose the organization directory's columns (field keys, in order)").Problems(CommonProblems.ValidationFailed);
        columns.MapPut("/customers", (ColumnsRequest body, Caller caller, AppDbContext db, TimeProvider time, CancellationToken ct) => SetColumnsAsync(RecordEntity.Customer, body, caller, db, time, ct))
            .WithSummary("Choose the customer directory's columns (field keys, in order)").Problems(CommonProblems.ValidationFailed);
    }

    private static async Task<Ok<List<ViewItem>>> ListAsync(string? entity, Caller caller, AppDbContext db, FieldCatalogCache catalogCache, IOptions<JsonOptions> json, CancellationToken ct)
    {
        var person = Person(caller);
        RecordEntity? only = entity switch
        {
            null or "" => null,
            "organization" => RecordEntity.Organization,
            "customer" => RecordEntity.Customer,
            _ => throw AppProblem.Validation(new Dictionary<string, string[]> { ["entity"] = ["must be organization or customer"] }, "The view list's filter is not valid."),
        };
        var rows = await db.Set<SavedView>().AsNoTracking()
            .Where(v => (v.OwnerAccountId == person || v.Shared) && (only == null || v.Entity == only))
            .OrderBy(v => v.Entity).ThenBy(v => v.Name).ThenBy(v => v.Id).ToListAsync(ct);
        var catalogs = await catalogCache.GetBothAsync(caller.TenantId, db, ct); // reads: the agents' cached catalogs (saves check against fresh ones)
        return TypedResults.Ok(rows.Select(v => Item(v, person, v.Entity == RecordEntity.Organization ? catalogs.Organization : catalogs.Customer, json.Value.SerializerOptions)).ToList());
    }

    private static async Task<Created<ViewItem>> CreateAsync(ViewRequest body, Caller caller, AppDbContext db, TimeProvider time, IOptions<JsonOptions> json, CancellationToken ct)
    {
        var person = Person(caller);
        var (entity, name, definition, catalog) = await ValidateAsync(body, null, db, ct);
        if (await db.Set<SavedView>().CountAsync(v => v.OwnerAccountId == person && v.Entity == entity, ct) >= MaxViewsPerPerson)
        {
            throw ViewProblems.Limit.Problem($"A person keeps at most {MaxViewsPerPerson} views per directory tab; delete one first.");
        }

        var now = time.GetUtcNow();
        var view = new SavedView
        {
            Id = Guid.NewGuid(),
            TenantId = caller.TenantId,
            OwnerAccountId = person,
            Entity = entity,
            Name = name,
            Shared = body.Shared ?? false,
            DefinitionJson = JsonSerializer.Serialize(definition, json.Value.SerializerOptions),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Set<SavedView>().Add(view);
        await SaveAsync(db, ct);
        return TypedResults.Created($"/api/views/{view.Id}", Item(view, person, catalog, json.Value.SerializerOptions));
    }

    private static async Task<Ok<ViewItem>> UpdateAsync(Guid id, ViewRequest body, Caller caller, AppDbContext db, TimeProvider time, IOptions<JsonOptions> json, CancellationToken ct)
    {
        var person = Person(caller);
        var view = await VisibleAsync(id, person, db, ct);
        if (view.OwnerAccountId != person)
        {
            throw ViewProblems.NotOwner.Problem("Only the agent who saved this view can change it; save your own copy instead.");
        }

        var (_, name, definition, catalog) = await ValidateAsync(body, view.Entity, db, ct);
        view.Name = name;
        view.Shared = body.Shared ?? view.Shared;
        view.DefinitionJson = JsonSerializer.Serialize(definition, json.Value.SerializerOptions);
        view.UpdatedAt = time.GetUtcNow();
        await SaveAsync(db, ct);
        return TypedResults.Ok(Item(view, person, catalog, json.Value.SerializerOptions));
    }

    private static async Task<NoContent> DeleteAsync(Guid id, Caller caller, AppDbContext db, CancellationToken ct)
    {
        var person = Person(caller);
        var view = await VisibleAsync(id, person, db, ct);
        if (view.OwnerAccountId != person && caller.Role != AppRole.Admin)
        {
            throw ViewProblems.NotOwner.Problem("Only the agent who saved this view or a site admin can delete it.");
        }

        db.Set<SavedView>().Remove(view);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<ColumnChoice>> ColumnsAsync(Caller caller, AppDbContext db, FieldCatalogCache catalogCache, CancellationToken ct)
    {
        var person = Person(caller);
        var rows = await db.Set<DirectoryColumns>().AsNoTracking().Where(c => c.AccountId == person).ToListAsync(ct);
        var catalogs = await catalogCache.GetBothAsync(caller.TenantId, db, ct); // reads: the agents' cached catalogs (saves check against fresh ones)
        IReadOnlyList<string>? Of(RecordEntity entity, FieldCatalog catalog) =>
            rows.SingleOrDefault(r => r.Entity == entity) is { } row ? Current(JsonSerializer.Deserialize<List<string>>(row.ColumnsJson) ?? [], catalog) : null;
        return TypedResults.Ok(new ColumnChoice(Of(RecordEntity.Organization, catalogs.Organization), Of(RecordEntity.Customer, catalogs.Customer)));
    }

    private static async Task<Ok<ColumnsRequest>> SetColumnsAsync(RecordEntity entity, ColumnsRequest body, Caller caller, AppDbContext db, TimeProvider time, CancellationToken ct)
    {
        var person = Person(caller);
        var catalog = await FieldCatalog.LoadAsync(db, entity, ct);
        var errors = new Dictionary<string, string[]>();
        var columns = CheckColumns(body?.Columns, catalog, "columns", errors) ?? [];
        if (body?.Columns is null)
        {
            errors["columns"] = ["is required: the field keys to show, in order ([] for none)"];
        }

        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors, "The column choice is not valid; nothing was changed.");
        }

        var json = JsonSerializer.Serialize(columns);
        var now = time.GetUtcNow();
        // One row per person and tab; the last choice wins (two tabs of the same person racing is harmless).
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO directory_columns (tenant_id, account_id, entity, columns_json, updated_at)
            VALUES ({caller.TenantId}, {person}, {entity.ToString()}, {json}::jsonb, {now})
            ON CONFLICT (tenant_id, account_id, entity) DO UPDATE SET columns_json = excluded.columns_json, updated_at = excluded.updated_at
            """, ct);
        return TypedResults.Ok(new ColumnsRequest(columns));
    }

    private static string Person(Caller caller) =>
        caller.AccountId ?? throw ViewProblems.PersonOnly.Problem("Saved views and column choices belong to a person; this request names none.");

    /// <summary>A view the caller may see (their own or a shared one); someone else's private view is not found, as if it did not exist.</summary>
    private static async Task<SavedView> VisibleAsync(Guid id, string person, AppDbContext db, CancellationToken ct) =>
        await db.Set<SavedView>().SingleOrDefaultAsync(v => v.Id == id && (v.OwnerAccountId == person || v.Shared), ct) ?? throw AppProblem.NotFound("The view");

    private static async Task<(RecordEntity Entity, string Name, ViewDefinition Definition, FieldCatalog Catalog)> ValidateAsync(ViewRequest? body, RecordEntity? existing, AppDbContext db, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        var entity = existing ?? body?.Entity;
        if (entity is null)
        {
            errors["entity"] = ["is required: organization or customer"];
        }
        else if (existing is not null && body?.Entity is { } asked && asked != existing)
        {
            errors["entity"] = ["a view stays on its directory tab; save a new view for the other one"];
        }

        var name = body?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            errors["name"] = [$"is required, at most {MaxNameLength} characters"];
        }

        var catalog = entity is { } e ? await FieldCatalog.LoadAsync(db, e, ct) : new FieldCatalog([]);
        var definition = body?.Definition ?? new ViewDefinition(null, null, null, null, null);
        foreach (var (key, messages) in SearchApi.Check(definition.Q, definition.Filters, definition.Sort, catalog))
        {
            errors["definition." + key] = messages;
        }

        var columns = CheckColumns(definition.Columns, catalog, "definition.columns", errors);
        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors, "The view is not valid; nothing was saved.");
        }

        var q = string.IsNullOrWhiteSpace(definition.Q) ? null : definition.Q.Trim();
        return (entity!.Value, name!, definition with { Q = q, Filters = definition.Filters ?? [], ShowRemoved = definition.ShowRemoved ?? false, Columns = columns }, catalog);
    }

    /// <summary>Distinct keys of fields that exist and are not archived, at most <see cref="MaxColumns"/>; null when none were given.</summary>
    private static List<string>? CheckColumns(IReadOnlyList<string>? columns, FieldCatalog catalog, string key, Dictionary<string, string[]> errors)
    {
        if (columns is null)
        {
            return null;
        }

        if (columns.Count > MaxColumns)
        {
            errors[key] = [$"at most {MaxColumns} columns"];
            return null;
        }

        var unknown = columns.Where(c => catalog.ByKey(c ?? string.Empty) is not { Archived: false }).ToList();
        if (unknown.Count > 0)
        {
            errors[key] = [$"not fields of these records: {string.Join(", ", unknown.Select(u => u is null ? "null" : $"'{u}'"))}"];
            return null;
        }

        return columns.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The saved columns whose fields still exist and are not archived (a field archived since is dropped, not an error).</summary>
    private static List<string> Current(IEnumerable<string> columns, FieldCatalog catalog) => columns.Where(c => catalog.ByKey(c) is { Archived: false }).ToList();

    private static ViewItem Item(SavedView view, string person, FieldCatalog catalog, JsonSerializerOptions options)
    {
        var definition = JsonSerializer.Deserialize<ViewDefinition>(view.DefinitionJson, options)!;
        return new ViewItem(view.Id, view.Entity, view.Name, view.Shared, view.OwnerAccountId == person,
            definition with { Columns = definition.Columns is null ? null : Current(definition.Columns, catalog) }, view.CreatedAt, view.UpdatedAt);
    }

    private static async Task SaveAsync(AppDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (e.InnerException is Npgsql.PostgresException { SqlState: "23505" })
        {
            throw ViewProblems.Duplicate.Problem("You already have a view with that name on this tab; choose another name or change that view.");
        }
    }
}
