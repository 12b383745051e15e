using System.Data;
using System.IO.Pipelines;
using System.Text.Json;
using ConnectApp.Api;
using ConnectApp.ApiTokens;
using ConnectApp.Audit;
using ConnectApp.Csv;
using ConnectApp.Fields;
using ConnectApp.Memberships;
using ConnectApp.Persistence;
using ConnectApp.Records;
using ConnectApp.Roles;
using ConnectApp.Tenants;
using ConnectApp.Views;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnectApp.Export;

/// <summary>
/// "Your data belongs to you": everything the app holds for a site, as one JSON document an admin downloads.
/// Streamed in keyset pages of <see cref="PageSize"/> inside one repeatable-read transaction, so memory stays flat
/// whatever the tenant's size and the file is one consistent snapshot. The document opens with <c>counts</c> (rows
/// per section), so a client reading the stream can show progress. API tokens appear as metadata only: their
/// secrets are not stored (ADR 5), let alone exported. Records with their values as CSV are the two CSV exports.
/// </summary>
internal static class TenantExport
{
    public const string Format = "connectapp.export.v1";

    public const int PageSize = 1000;

    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/admin/export", ExportAsync)
            .WithTags("Data export (admin)")
            .RequireAuthorization(RolesFeature.Admin)
            .WithSummary("Everything the app stores for this site, streamed as one JSON document (counts first, for progress)")
            .Produces<ExportDocument>(StatusCodes.Status200OK, "application/json");

    private static async Task<PushStreamHttpResult> ExportAsync(Caller caller, AppDbContext db, AuditLog audit, TimeProvider time, IOptions<JsonOptions> jsonOptions, ILoggerFactory logs, HttpContext context)
    {
        // Who took a copy of the site's data is itself part of the record: written (and committed) before the
        // snapshot is taken, so the export contains its own entry.
        audit.Add(caller.TenantId, caller.Actor, "data.exported", "site", null, null, null, null);
        await db.SaveChangesAsync(context.RequestAborted);
        logs.CreateLogger(typeof(TenantExport)).LogInformation("Tenant {TenantId} data export started", caller.TenantId);
        var options = jsonOptions.Value.SerializerOptions;
        return TypedResults.Stream(
            async body =>
            {
                // Utf8JsonWriter over a pipe: the serializer's own flushes only hand bytes to the pipe, and the pipe
                // goes to the response (asynchronously) once per page.
                var pipe = PipeWriter.Create(body, new StreamPipeWriterOptions(leaveOpen: true));
                await using (var json = new Utf8JsonWriter(pipe))
                {
                    await new Writer(db, options, json, pipe, context.RequestAborted).WriteAsync(caller.TenantId, time.GetUtcNow());
                }

                await pipe.CompleteAsync();
            },
            "application/json; charset=utf-8",
            $"connectapp-export-{time.GetUtcNow():yyyy-MM-dd}.json");
    }

    /// <summary>Writes one export: the document's frame by hand (so sections stream), each element with the API's serializer.</summary>
    private sealed class Writer(AppDbContext db, JsonSerializerOptions options, Utf8JsonWriter json, PipeWriter pipe, CancellationToken ct)
    {

        public async Task WriteAsync(Guid tenantId, DateTimeOffset now)
        {
            await using var tx = await db.Database.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            var tenant = await db.Set<Tenant>().AsNoTracking().SingleAsync(t => t.Id == tenantId, ct);
            var fields = await db.Set<FieldDefinition>().AsNoTracking().Include(f => f.Options)
                .OrderBy(f => f.Entity).ThenBy(f => f.Position).ThenBy(f => f.Key).ToListAsync(ct);
            var keys = fields.ToDictionary(f => f.Id.ToString(), f => f.Key);

            json.WriteStartObject();
            json.WriteString("format", Format);
            json.WriteString("exportedAt", now);
            Write("site", new ExportedSite(tenant.BaseUrl, tenant.InstalledAt));
            Write("counts", new ExportCounts(
                fields.Count,
                await db.Set<Record>().CountAsync(r => r.Entity == RecordEntity.Organization, ct),
                await db.Set<Record>().CountAsync(r => r.Entity == RecordEntity.Customer, ct),
                await db.Set<Membership>().CountAsync(ct),
                await db.Set<EmailDomainRule>().CountAsync(ct),
                await db.Set<MembershipChange>().CountAsync(ct),
                await db.Set<ApiToken>().CountAsync(ct),
                await db.Set<ImportJob>().CountAsync(ct),
                await db.Set<AuditEntry>().CountAsync(ct),
                await db.Set<SavedView>().CountAsync(ct),
                await db.Set<DirectoryColumns>().CountAsync(ct)));
            Write("fields", fields.Select(ExportedField.From));
            await FlushAsync();

            foreach (var (section, entity) in new[] { ("organizations", RecordEntity.Organization), ("customers", RecordEntity.Customer) })
            {
                await WriteSectionAsync(section, db.Set<Record>().Where(r => r.Entity == entity).OrderBy(r => r.Id), r => r.Id, (q, last) => q.Where(r => r.Id.CompareTo(last) > 0), r => ExportedRecord.From(r, keys));
            }

            await WriteSectionAsync(
                "memberships",
                db.Set<Membership>().OrderBy(m => m.CustomerId).ThenBy(m => m.OrganizationId),
                m => (m.CustomerId, m.OrganizationId),
                (q, last) => q.Where(m => m.CustomerId.CompareTo(last.CustomerId) > 0 || (m.CustomerId == last.CustomerId && m.OrganizationId.CompareTo(last.OrganizationId) > 0)),
                m => new ExportedMembership(m.CustomerId, m.OrganizationId));
            await WriteSectionAsync("emailRules", db.Set<EmailDomainRule>().OrderBy(r => r.Id), r => r.Id, (q, last) => q.Where(r => r.Id.CompareTo(last) > 0), ExportedEmailRule.From);
            await WriteSectionAsync("membershipChanges", db.Set<MembershipChange>().OrderBy(c => c.Id), c => c.Id, (q, last) => q.Where(c => c.Id.CompareTo(last) > 0), ExportedMembershipChange.From);
            await WriteSectionAsync("apiTokens", db.Set<ApiToken>().OrderBy(t => t.Id), t => t.Id, (q, last) => q.Where(t => t.Id.CompareTo(last) > 0), ExportedApiToken.From);
            await WriteSectionAsync("imports", db.Set<ImportJob>().OrderBy(j => j.Id), j => j.Id, (q, last) => q.Where(j => j.Id.CompareTo(last) > 0), ExportedImport.From);
            await WriteSectionAsync("auditLog", db.Set<AuditEntry>().OrderBy(a => a.Id), a => a.Id, (q, last) => q.Where(a => a.Id > last), ExportedAuditEntry.From);
            await WriteSectionAsync("savedViews", db.Set<SavedView>().OrderBy(v => v.Id), v => v.Id, (q, last) => q.Where(v => v.Id.CompareTo(last) > 0), ExportedSavedView.From);
            await WriteSectionAsync(
                "directoryColumns",
                db.Set<DirectoryColumns>().OrderBy(c => c.AccountId).ThenBy(c => c.Entity),
                c => (c.AccountId, c.Entity),
                (q, last) => q.Where(c => string.Compare(c.AccountId, last.AccountId) > 0 || (c.AccountId == last.AccountId && c.Entity > last.Entity)),
                ExportedDirectoryColumns.From);

            json.WriteEndObject();
            await FlushAsync();
            await tx.CommitAsync(ct);
        }

        private async Task FlushAsync()
        {
            json.Flush();
            await pipe.FlushAsync(ct);
        }

        private void Write<T>(string name, T value)
        {
            json.WritePropertyName(name);
            JsonSerializer.Serialize(json, value, options);
        }

        /// <summary>One section as an array, read in keyset pages (<paramref name="after"/> continues after a row's key), flushed per page.</summary>
        private async Task WriteSectionAsync<TRow, TKey, TOut>(string name, IQueryable<TRow> source, Func<TRow, TKey> keyOf, Func<IQueryable<TRow>, TKey, IQueryable<TRow>> after, Func<TRow, TOut> map)
            where TRow : class
        {
            json.WriteStartArray(name);
            var query = source.AsNoTracking();
            var next = query;
            while (true)
            {
                var page = await next.Take(PageSize).ToListAsync(ct);
                foreach (var row in page)
                {
                    JsonSerializer.Serialize(json, map(row), options);
                }

                await FlushAsync();
                if (page.Count < PageSize)
                {
                    break;
                }

                next = after(query, keyOf(page[^1]));
            }

            json.WriteEndArray();
        }
    }
}
