using System.Data;
using System.Text.Json.Nodes;
using ConnectApp.Fields;
using ConnectApp.Persistence;
using ConnectApp.Records;
using ConnectApp.Roles;
using CsvHelper;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Csv;

/// <summary>
/// Organizations and customers as CSV for agents, in the format the import reads back. Streamed: records are read
/// in keyset pages of <see cref="PageSize"/> and written as they come, inside one repeatable-read transaction so
/// the file is one consistent snapshot however long the download takes.
/// </summary>
internal static class CsvExport
{
    public const int PageSize = 1000;

    internal static IEndpointRouteBuilder MapCsvExportEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/organizations/export.csv", (AppDbContext db, HttpContext c) => Export(RecordEntity.Organization, db, c.RequestAborted))
            .WithTags("CSV export").RequireAuthorization(RolesFeature.Agent);
        app.MapGet("/customers/export.csv", (AppDbContext db, HttpContext c) => Export(RecordEntity.Customer, db, c.RequestAborted))
            .WithTags("CSV export").RequireAuthorization(RolesFeature.Agent);
        return app;
    }

    private static PushStreamHttpResult Export(RecordEntity entity, AppDbContext db, CancellationToken ct) =>
        TypedResults.Stream(
            body => WriteAsync(entity, db, body, ct),
            CsvFormat.ContentType + "; charset=utf-8",
            entity == RecordEntity.Organization ? "organizations.csv" : "customers.csv");

    private static async Task WriteAsync(RecordEntity entity, AppDbContext db, Stream body, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var fields = (await FieldCatalog.LoadAsync(db, entity, ct)).Active.ToList();
        await using var csv = CsvWriter.Create(body, CsvFormat.WriterOptions(), leaveOpen: true);
        foreach (var column in CsvFormat.FixedColumns(entity))
        {
            csv.WriteField(column);
        }

        foreach (var field in fields)
        {
            csv.WriteField(field.Key);
        }

        await csv.EndRecordAsync(ct);
        (string Name, Guid Id)? last = null;
        while (true)
        {
            var query = db.Set<Record>().AsNoTracking().Where(r => r.Entity == entity);
            if (last is var (lastName, lastId))
            {
                query = query.Where(r => string.Compare(r.Name, lastName) > 0 || (r.Name == lastName && r.Id.CompareTo(lastId) > 0));
            }

            var page = await query.OrderBy(r => r.Name).ThenBy(r => r.Id).Take(PageSize).ToListAsync(ct);
            var organizations = entity == RecordEntity.Customer ? await OrganizationJsmIdsAsync(db, page.Select(r => r.Id).ToList(), ct) : null;
            foreach (var record in page)
            {
                csv.WriteField(FormulaGuard.Protect(record.ExternalId));
                if (entity == RecordEntity.Customer)
                {
                    csv.WriteField(FormulaGuard.Protect(record.Email ?? string.Empty));
                }

                csv.WriteField(FormulaGuard.Protect(record.Name));
                if (organizations is not null)
                {
                    csv.WriteField(string.Join(FieldValues.MultiSeparator, organizations.GetValueOrDefault(record.Id) ?? []));
                }

                var values = JsonNode.Parse(record.ValuesJson)!.AsObject();
                foreach (var field in fields)
                {
                    csv.WriteField(FormulaGuard.Protect(FieldValues.ToText(field, values[field.Id.ToString()])));
                }

                await csv.EndRecordAsync(ct);
            }

            await csv.FlushAsync(ct);
            if (page.Count < PageSize)
            {
                break;
            }

            last = (page[^1].Name, page[^1].Id);
        }

        await tx.CommitAsync(ct);
    }

    private static async Task<Dictionary<Guid, List<string>>> OrganizationJsmIdsAsync(AppDbContext db, List<Guid> customerIds, CancellationToken ct) =>
        (await (from m in db.Set<Membership>().AsNoTracking()
                join o in db.Set<Record>().AsNoTracking() on m.OrganizationId equals o.Id
                where customerIds.Contains(m.CustomerId)
                orderby o.ExternalId
                select new { m.CustomerId, o.ExternalId }).ToListAsync(ct))
            .GroupBy(x => x.CustomerId)
            .ToDictionary(g => g.Key, g => g.Select(x => x.ExternalId).ToList());
}
