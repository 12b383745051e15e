using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Records;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Fields;

/// <summary>Field definitions: agents read them, admins manage them.</summary>
internal static class FieldsApi
{
    public sealed record CreateFieldRequest(
        RecordEntity Entity, string Key, string Label, string? Description, FieldType Type, bool Required = false,
        FieldVisibility Visibility = FieldVisibility.Agents, decimal? Min = null, decimal? Max = null, int? Decimals = null, IReadOnlyList<string>? Options = null);

    public sealed record ChangeTypeRequest(FieldType Type, decimal? Min = null, decimal? Max = null, int? Decimals = null);

    public sealed record ReorderRequest(RecordEntity Entity, IReadOnlyList<Guid> FieldIds);

    public sealed record OptionRequest(string Label);

    public sealed record OptionUpdateRequest(string? Label, bool? Retired);

    public sealed record OptionOrderRequest(IReadOnlyList<Guid> OptionIds);

    public static IServiceCollection AddFields(this IServiceCollection services) =>
        services.AddScoped<FieldDefinitionWriter>().AddSingleton<FieldCatalogCache>();

    public static IEndpointRouteBuilder MapFieldsEndpoints(this IEndpointRouteBuilder app)
    {
        var read = app.MapGroup("/fields").WithTags("Fields").RequireAuthorization(RolesFeature.Agent);
        read.MapGet("/", ListAsync);
        read.MapGet("/{id:guid}", GetAsync);

        var admin = app.MapGroup("/admin/fields").WithTags("Fields (admin)").RequireAuthorization(RolesFeature.Admin);
        admin.MapPost("/", CreateAsync);
        admin.MapPatch("/{id:guid}", UpdateAsync);
        admin.MapPost("/{id:guid}/type", ChangeTypeAsync);
        admin.MapPut("/order", ReorderAsync);
        admin.MapPost("/{id:guid}/options", AddOptionAsync);
        admin.MapPatch("/{id:guid}/options/{optionId:guid}", UpdateOptionAsync);
        admin.MapPut("/{id:guid}/options/order", ReorderOptionsAsync);
        return app;
    }

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
        var field = await db.FieldDefinitions.AsNoTracking().Include(f => f.Options).SingleOrDefaultAsync(f => f.Id == id, ct) ?? throw AppProblem.NotFound("The field");
        return Versioned(response, field);
    }

    private static async Task<Created<FieldView>> CreateAsync(CreateFieldRequest body, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct)
    {
        var caller = await Caller.FromAsync(context);
        var field = await writer.CreateAsync(caller, new(body.Entity, body.Key, body.Label, body.Description, body.Type, body.Required, body.Visibility, body.Min, body.Max, body.Decimals, body.Options), ct);
        Versions.SetETag(context.Response, field.Version);
        return TypedResults.Created($"/api/fields/{field.Id}", FieldView.From(field));
    }

    private static async Task<Ok<FieldView>> UpdateAsync(Guid id, FieldDefinitionWriter.FieldUpdate body, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct)
    {
        var field = await writer.UpdateAsync(await Caller.FromAsync(context), id, Versions.Required(context.Request), body, ct);
        return Versioned(context.Response, field);
    }

    private static async Task<Ok<FieldView>> ChangeTypeAsync(Guid id, ChangeTypeRequest body, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct)
    {
        var field = await writer.ChangeTypeAsync(await Caller.FromAsync(context), id, Versions.Required(context.Request), body.Type, body.Min, body.Max, body.Decimals, ct);
        return Versioned(context.Response, field);
    }

    private static async Task<Ok<IReadOnlyList<FieldView>>> ReorderAsync(ReorderRequest body, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct)
    {
        var fields = await writer.ReorderAsync(await Caller.FromAsync(context), body.Entity, body.FieldIds ?? [], ct);
        return TypedResults.Ok<IReadOnlyList<FieldView>>(fields.Select(FieldView.From).ToList());
    }

    private static async Task<Ok<FieldView>> AddOptionAsync(Guid id, OptionRequest body, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct)
    {
        var field = await writer.AddOptionAsync(await Caller.FromAsync(context), id, Versions.Required(context.Request), body.Label ?? string.Empty, ct);
        return Versioned(context.Response, field);
    }

    private static async Task<Ok<FieldView>> UpdateOptionAsync(Guid id, Guid optionId, OptionUpdateRequest body, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct)
    {
        var field = await writer.UpdateOptionAsync(await Caller.FromAsync(context), id, optionId, Versions.Required(context.Request), body.Label, body.Retired, ct);
        return Versioned(context.Response, field);
    }

    private static async Task<Ok<FieldView>> ReorderOptionsAsync(Guid id, OptionOrderRequest body, HttpContext context, FieldDefinitionWriter writer, CancellationToken ct)
    {
        var field = await writer.ReorderOptionsAsync(await Caller.FromAsync(context), id, Versions.Required(context.Request), body.OptionIds ?? [], ct);
        return Versioned(context.Response, field);
    }

    private static Ok<FieldView> Versioned(HttpResponse response, FieldDefinition field)
    {
        Versions.SetETag(response, field.Version);
        return TypedResults.Ok(FieldView.From(field));
    }
}
