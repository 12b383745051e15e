using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Records;

/// <summary>
/// The help-center portal: a customer sees their own customer record and their own organizations, only the
/// fields marked visible to customers, and edits only those marked editable. Anything else is 404, so a
/// customer cannot even learn that another record exists. Everyone is treated as a customer here, agents too.
/// </summary>
internal static class PortalApi
{
    public sealed record Me(RecordView? Customer, IReadOnlyList<RecordView> Organizations, IReadOnlyList<FieldView> CustomerFields, IReadOnlyList<FieldView> OrganizationFields);

    public static IEndpointRouteBuilder MapPortalEndpoints(this IEndpointRouteBuilder app)
    {
        var portal = app.MapGroup("/portal").WithTags("Portal").RequireAuthorization(RolesFeature.Customer);
        portal.MapGet("/me", MeAsync);
        portal.MapGet("/customers/{id:guid}", (Guid id, HttpContext c, AppDbContext db, CancellationToken ct) => GetAsync(RecordEntity.Customer, id, c, db, ct));
        portal.MapGet("/organizations/{id:guid}", (Guid id, HttpContext c, AppDbContext db, CancellationToken ct) => GetAsync(RecordEntity.Organization, id, c, db, ct));
        portal.MapPatch("/customers/{id:guid}/values", (Guid id, RecordsApi.ValuesRequest body, HttpContext c, AppDbContext db, RecordWriter w, CancellationToken ct) => SetAsync(RecordEntity.Customer, id, body, c, db, w, ct));
        portal.MapPatch("/organizations/{id:guid}/values", (Guid id, RecordsApi.ValuesRequest body, HttpContext c, AppDbContext db, RecordWriter w, CancellationToken ct) => SetAsync(RecordEntity.Organization, id, body, c, db, w, ct));
        return app;
    }

    private static async Task<Caller> CustomerAsync(HttpContext context) => await Caller.FromAsync(context) with { Role = AppRole.Customer };

    private static async Task<Ok<Me>> MeAsync(HttpContext context, AppDbContext db, CancellationToken ct)
    {
        var caller = await CustomerAsync(context);
        await db.Database.OpenConnectionAsync(ct);
        var customer = await db.Records.AsNoTracking().SingleOrDefaultAsync(r => r.Entity == RecordEntity.Customer && r.ExternalId == caller.AccountId, ct);
        var orgIds = customer is null ? [] : await db.Memberships.AsNoTracking().Where(m => m.CustomerId == customer.Id).Select(m => m.OrganizationId).ToListAsync(ct);
        var orgs = await db.Records.AsNoTracking().Where(r => r.Entity == RecordEntity.Organization && orgIds.Contains(r.Id)).OrderBy(r => r.Name).ToListAsync(ct);
        var (organizationFields, customerFields) = await FieldCatalog.LoadBothAsync(db, ct);
        return TypedResults.Ok(new Me(
            customer is null ? null : RecordView.From(customer, customerFields, AppRole.Customer, orgIds),
            orgs.Select(o => RecordView.From(o, organizationFields, AppRole.Customer)).ToList(),
            RecordView.Visible(customerFields, AppRole.Customer).Select(FieldView.From).ToList(),
            RecordView.Visible(organizationFields, AppRole.Customer).Select(FieldView.From).ToList()));
    }

    private static async Task<Ok<RecordView>> GetAsync(RecordEntity entity, Guid id, HttpContext context, AppDbContext db, CancellationToken ct)
    {
        var caller = await CustomerAsync(context);
        var record = await OwnAsync(entity, id, caller, db, tracked: false, ct);
        return await RecordsApi.ViewAsync(record, AppRole.Customer, context, db, ct);
    }

    private static async Task<Ok<RecordView>> SetAsync(RecordEntity entity, Guid id, RecordsApi.ValuesRequest body, HttpContext context, AppDbContext db, RecordWriter writer, CancellationToken ct)
    {
        var caller = await CustomerAsync(context);
        var expected = Versions.Required(context.Request);
        var record = await OwnAsync(entity, id, caller, db, tracked: true, ct);
        record = await writer.SetValuesAsync(caller, record, expected, RecordsApi.RequireValues(body), ct);
        return await RecordsApi.ViewAsync(record, AppRole.Customer, context, db, ct);
    }

    /// <summary>The caller's own customer record, or an organization they belong to; anything else is 404.</summary>
    private static async Task<Record> OwnAsync(RecordEntity entity, Guid id, Caller caller, AppDbContext db, bool tracked, CancellationToken ct)
    {
        var records = tracked ? db.Records : db.Records.AsNoTracking();
        Record? record = entity == RecordEntity.Customer
            ? await records.SingleOrDefaultAsync(r => r.Id == id && r.Entity == RecordEntity.Customer && r.ExternalId == caller.AccountId, ct)
            : await records.SingleOrDefaultAsync(r => r.Id == id && r.Entity == RecordEntity.Organization
                && db.Memberships.Any(m => m.OrganizationId == id && db.Records.Any(c => c.Id == m.CustomerId && c.Entity == RecordEntity.Customer && c.ExternalId == caller.AccountId)), ct);
        return record ?? throw RecordsApi.NotFound(entity);
    }
}
