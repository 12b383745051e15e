using ConnectApp.Api;
using ConnectApp.Audit;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Fields;

/// <summary>Field definitions: agents read them, admins manage them (the type change, which rewrites values, is in Records).</summary>
internal static class FieldsFeature
{
    /// <summary>
    /// A new field. <c>jqlSearchable</c>: its values become the JQL alias <c>customer.&lt;key&gt;</c> /
    /// <c>organization.&lt;key&gt;</c>, written into a property of the reporters' issues — entity properties are readable by
    /// any user of the site who can see the issue, whatever the field's visibility.
    /// </summary>
    public sealed record CreateFieldRequest(
        RecordEntity Entity, string Key, string Label, string? Description, FieldType Type, bool Required = false,
        FieldVisibility Visibility = FieldVisibility.Agents, decimal? Min = null, decimal? Max = null, int? Decimals = null, IReadOnlyList<string>? Options = null,
        bool JqlSearchable = false);

    public sealed record ReorderRequest(RecordEntity Entity, IReadOnlyList<Guid> FieldIds);

    public sealed record OptionRequest(string Label);

    public sealed record OptionUpdateRequest(string? Label, bool? Retired);

    public sealed record OptionOrderRequest(IReadOnlyList<Guid> OptionIds);

    private const string JqlSearchableText =
        "jqlSearchable: the field's values become the JQL alias customer.<key> / organization.<key>, written into the issue property "
        + "connectapp.values of the issues the customer (a member of the organization) reported. Entity properties can be read by any user of the "
        + "site who can see the issue, whatever the field's visibility here: mark a field searchable only if that is acceptable.";

    public static IServiceCollection AddFields(this IServiceCollection services) =>
        services.AddScoped<FieldDefinitionWriter>().AddSingleton<FieldCatalogCache>();

    public static IEndpointRouteBuilder MapFieldsEndpoints(this IEndpointRouteBuilder api)
    {
        var read = api.MapGroup("/fields").WithTags("Fields").RequireAuthorization(RolesFeature.Agent);
        read.MapGet("/", ListAsync);
        read.MapGet("/{id:guid}", GetAsync).Problems(CommonProblems.NotFound).ReturnsETag();
        read.MapGet("/{id:guid}/history", HistoryAsync).WithTags("History").Problems(CommonProblems.NotFound);

        var admin = api.MapAdminFieldsGroup();
        admin.MapPost("/", CreateAsync).WithDescription(JqlSearchableText).Problems(CommonProblems.ValidationFailed, FieldProblems.Limit, FieldProblems.KeyTaken).ReturnsETag();
        admin.MapPatch("/{id:guid}", UpdateAsync).WithDescription(JqlSearchableText).Problems(CommonProblems.ValidationFailed, CommonProblems.NotFound, FieldProblems.VersionMismatch, ApiProblems.PreconditionRequired, ApiProblems.IfMatchMalformed).ReturnsETag();
        admin.MapPut("/order", ReorderAsync).Problems(CommonProblems.NotFound, FieldProblems.ReorderMismatch);
        var options = admin.MapGroup("/{id:guid}/options")
            .Problems(CommonProblems.NotFound, FieldProblems.VersionMismatch, ApiProblems.PreconditionRequired, ApiProblems.IfMatchMalformed)
            .ReturnsETag();
        options.MapPost("/", AddOptionAsync).Problems(CommonProblems.ValidationFailed, FieldProblems.NoOptions, FieldProblems.OptionLimit);
        options.MapPatch("/{optionId:guid}", UpdateOptionAsync).Problems(CommonProblems.ValidationFailed);
        options.MapPut("/order", ReorderOptionsAsync).Problems(FieldProblems.OptionReorderMismatch);
        return api;
    }

    /// <summary>The admin group for field definitions; Records adds the type change to it.</summary>
    public static RouteGroupBuilder MapAdminFieldsGroup(this IEndpointRouteBuilder api) =>
        api.MapGroup("/admin/fields").WithTags("Fields (admin)").RequireAuthorization(RolesFeature.Admin);

    private static async Task<Ok<IReadOnlyList<FieldView>>> ListAsync(AppDbContext db, string? entity, bool? includeArchived, CancellationToken ct)
    {
        var fields = new List<FieldView>();
        foreach (var e in entity is { } one ? [ApiNames.Parse<RecordEntity>(one, "entity")] : Enum.GetValues<RecordEntity>())
        {
            var catalog = await FieldCatalog.LoadAsync(db, e, ct);
            fields.AddRange((includeArchived == true ? catalog.All : catalog.Active).Select(FieldView.From));
        }

        return TypedResults.Ok<IReadOnlyList<FieldView>>(fields);
    }

    private static async Task<Ok<FieldView>> GetAsync(Guid id, AppDbContext db, HttpResponse response, CancellationToken ct)
    {
        var field = await db.Set<FieldDefinition>().AsNoTracking().Include(f => f.Options).SingleOrDefaultAsync(f => f.Id == id, ct) ?? throw AppProblem.NotFound("The field");
        return Versioned(response, field);
    }

    private static async Task<Ok<AuditHistory.History>> HistoryAsync(Guid id, AppDbContext db, long? before, int? limit, CancellationToken ct)
    {
        if (!await db.Set<FieldDefinition>().AnyAsync(f => f.Id == id, ct))
        {
            throw AppProblem.NotFound("The field");
        }

        return await AuditHistory.PageAsync(db, q => q.Where(a => a.FieldId == id), before, limit, (ids, c) => FieldCatalog.KeysAsync(db, ids, c), ct);
    }

    private static async Task<Created<FieldView>> CreateAsync(CreateFieldRequest body, Caller caller, HttpResponse response, FieldDefinitionWriter writer, CancellationToken ct)
    {
        var field = await writer.CreateAsync(caller, new(body.Entity, body.Key, body.Label, body.Description, body.Type, body.Required, body.Visibility, body.Min, body.Max, body.Decimals, body.Options, body.JqlSearchable), ct);
        ETags.Set(response, field.Version);
        return TypedResults.Created($"/api/fields/{field.Id}", FieldView.From(field));
    }

    private static async Task<Ok<FieldView>> UpdateAsync(Guid id, FieldDefinitionWriter.FieldUpdate body, Caller caller, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct) =>
        Versioned(context.Response, await writer.UpdateAsync(caller, id, ETags.Required(context.Request), body, ct));

    private static async Task<Ok<IReadOnlyList<FieldView>>> ReorderAsync(ReorderRequest body, Caller caller, FieldDefinitionWriter writer, CancellationToken ct)
    {
        var fields = await writer.ReorderAsync(caller, body.Entity, body.FieldIds ?? [], ct);
        return TypedResults.Ok<IReadOnlyList<FieldView>>(fields.Select(FieldView.From).ToList());
    }

    private static async Task<Ok<FieldView>> AddOptionAsync(Guid id, OptionRequest body, Caller caller, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct) =>
        Versioned(context.Response, await writer.AddOptionAsync(caller, id, ETags.Required(context.Request), body.Label ?? string.Empty, ct));

    private static async Task<Ok<FieldView>> UpdateOptionAsync(Guid id, Guid optionId, OptionUpdateRequest body, Caller caller, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct) =>
        Versioned(context.Response, await writer.UpdateOptionAsync(caller, id, optionId, ETags.Required(context.Request), body.Label, body.Retired, ct));

    private static async Task<Ok<FieldView>> ReorderOptionsAsync(Guid id, OptionOrderRequest body, Caller caller, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct) =>
        Versioned(context.Response, await writer.ReorderOptionsAsync(caller, id, ETags.Required(context.Request), body.OptionIds ?? [], ct));

    internal static Ok<FieldView> Versioned(HttpResponse response, FieldDefinition field)
    {
        ETags.Set(response, field.Version);
        return TypedResults.Ok(FieldView.From(field));
    }
}
