using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Problems;
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

    internal static void Map(IEndpointRouteBuilder api)
    {
        var portal = api.MapGroup("/portal").WithTags("Portal").RequireAuthorization(RolesFeature.Customer);
        portal.MapGet("/me", MeAsync);
        portal.MapGet("/customers/{id:guid}", (Guid id, Caller caller, HttpContext c, AppDbContext db, CancellationToken ct) => GetAsync(RecordEntity.Customer, id, caller, c, db, ct))
            .Problems(CommonProblems.NotFound);
        portal.MapGet("/organizations/{id:guid}", (Guid id, Caller caller, HttpContext c, AppDbContext db, CancellationToken ct) => GetAsync(RecordEntity.Organization, id, caller, c, db, ct))
            .Problems(CommonProblems.NotFound);
        portal.MapPatch("/customers/{id:guid}/values", (Guid id, RecordsApi.ValuesRequest body, Caller caller, HttpContext c, AppDbContext db, RecordWriter w, CancellationToken ct) => SetAsync(RecordEntity.Customer, id, body, caller, c, db, w, ct))
            .Problems(RecordsApi.WriteProblems);
        portal.MapPatch("/organizations/{id:guid}/values", (Guid id, RecordsApi.ValuesRequest body, Caller caller, HttpContext c, AppDbContext db, RecordWriter w, CancellationToken ct) => SetAsync(RecordEntity.Organization, id, body, caller, c, db, w, ct))
            .Problems(RecordsApi.WriteProblems);
    }

    /// <summary>Everyone is a customer here, agents and admins too: the portal shows what a customer would see.</summary>
    private static Caller AsCustomer(Caller caller) => caller with { Role = AppRole.Customer };

    private static async Task<Ok<Me>> MeAsync(Caller caller, AppDbContext db, CancellationToken ct)
    {
        caller = AsCustomer(caller);
        await db.Database.OpenConnectionAsync(ct);
        var customer = await db.Set<Record>().AsNoTracking().SingleOrDefaultAsync(r => r.Entity == RecordEntity.Customer && r.ExternalId == caller.AccountId, ct);
        var orgIds = customer is null ? [] : await db.Set<Membership>().AsNoTracking().Where(m => m.CustomerId == customer.Id).Select(m => m.OrganizationId).ToListAsync(ct);
        var orgs = await db.Set<Record>().AsNoTracking().Where(r => r.Entity == RecordEntity.Organization && orgIds.Contains(r.Id)).OrderBy(r => r.Name).ToListAsync(ct);
        var (organizationFields, customerFields) = await FieldCatalog.LoadBothAsync(db, ct);
        return TypedResults.Ok(new Me(
            customer is null ? null : RecordView.From(customer, customerFields, AppRole.Customer, orgIds),
            orgs.Select(o => RecordView.From(o, organizationFields, AppRole.Customer)).ToList(),
            FieldView.Visible(customerFields, AppRole.Customer).Select(FieldView.From).ToList(),
            FieldView.Visible(organizationFields, AppRole.Customer).Select(FieldView.From).ToList()));
    }

    private static async Task<Ok<RecordView>> GetAsync(RecordEntity entity, Guid id, Caller caller, HttpContext context, AppDbContext db, CancellationToken ct)
    {
        caller = AsCustomer(caller);
        var record = await OwnAsync(entity, id, caller, db, tracked: false, ct);
        return await RecordsApi.ViewAsync(record, AppRole.Customer, context, db, ct);
    }

    private static async Task<Ok<RecordView>> SetAsync(RecordEntity entity, Guid id, RecordsApi.ValuesRequest body, Caller caller, HttpContext context, AppDbContext db, RecordWriter writer, CancellationToken ct)
    {
        caller = AsCustomer(caller);
        var expected = ETags.Required(context.Request);
        var record = await OwnAsync(entity, id, caller, db, tracked: true, ct);
        record = await writer.SetValuesAsync(caller, record, expected, RecordsApi.RequireValues(body), ct);
        return await RecordsApi.ViewAsync(record, AppRole.Customer, context, db, ct);
    }

    /// <summary>The caller's own customer record, or an organization they belong to; anything else is 404.</summary>
    private static async Task<Record> OwnAsync(RecordEntity entity, Guid id, Caller caller, AppDbContext db, bool tracked, CancellationToken ct)
    {
        var records = tracked ? db.Set<Record>() : db.Set<Record>().AsNoTracking();
        Record? record = entity == RecordEntity.Customer
            ? await records.SingleOrDefaultAsync(r => r.Id == id && r.Entity == RecordEntity.Customer && r.ExternalId == caller.AccountId, ct)
            : await records.SingleOrDefaultAsync(r => r.Id == id && r.Entity == RecordEntity.Organization
                && db.Set<Membership>().Any(m => m.OrganizationId == id && db.Set<Record>().Any(c => c.Id == m.CustomerId && c.Entity == RecordEntity.Customer && c.ExternalId == caller.AccountId)), ct);
        return record ?? throw RecordProblems.NotFound(entity);
    }
}
