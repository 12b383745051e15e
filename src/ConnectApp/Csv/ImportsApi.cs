using System.Globalization;
using System.Text;
using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Jobs;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using CsvHelper;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace ConnectApp.Csv;

/// <summary>
/// CSV imports for agents: upload (stored in chunks, then run by the worker), progress, and the per-row error report.
/// A job of another tenant is invisible (row-level security and the query agree): 404, never 403.
/// </summary>
internal static class ImportsApi
{
    public const int DefaultErrorPage = 100;

    /// <summary>Strict: invalid bytes are an error, not silently replaced by U+FFFD.</summary>
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    public const int MaxErrorPage = 1000;

    public sealed record ImportJobView(
        Guid Id, RecordEntity Entity, ImportStatus Status, int? Total, int Done, int Failed, int Applied, int ErrorsStored, int ErrorsNotStored,
        long FileBytes, string? Error, DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt)
    {
        public static ImportJobView From(ImportJob j) => new(
            j.Id, j.Entity, j.Status, j.TotalRows, j.DoneRows, j.FailedRows, j.DoneRows - j.FailedRows, j.ErrorsStored, j.ErrorsNotStored,
            j.FileBytes, j.Error, j.CreatedAt, j.StartedAt, j.FinishedAt);
    }

    public sealed record ImportErrorView(int Row, string? Column, string Reason);

    internal static void Map(IEndpointRouteBuilder api)
    {
        var imports = api.MapGroup("/imports").WithTags("CSV import").RequireAuthorization(RolesFeature.Agent);
        // No .Accepts("text/csv"): routing would answer a wrong content type itself (a bare 415, before authentication
        // sees the endpoint); the handler refuses it with a ProblemDetails code instead.
        imports.MapPost("/", UploadAsync).Problems(
            CsvProblems.Entity, CsvProblems.UnsupportedMediaType, CsvProblems.UnsupportedCharset, CsvProblems.TooLarge, CsvProblems.Empty,
            CsvProblems.HeaderTooLong, CsvProblems.HeaderMalformed, CsvProblems.HeaderInvalid, CsvProblems.Encoding);
        imports.MapGet("/{id:guid}", GetAsync).Problems(CommonProblems.NotFound);
        imports.MapGet("/{id:guid}/errors", ErrorsAsync).Problems(CommonProblems.NotFound, ApiProblems.CursorMalformed);
        imports.MapGet("/{id:guid}/errors.csv", ErrorsCsvAsync).Problems(CommonProblems.NotFound);
    }

    private static async Task<Accepted<ImportJobView>> UploadAsync(string? entity, Caller caller, HttpContext context, AppDbContext db, JobQueue queue, TimeProvider time, CancellationToken ct)
    {
        var recordEntity = entity switch
        {
            "organization" => RecordEntity.Organization,
            "customer" => RecordEntity.Customer,
            _ => throw CsvProblems.Entity.Problem("Say what the file holds: ?entity=organization or ?entity=customer."),
        };
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) || !mediaType.MediaType.Equals(CsvFormat.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            throw CsvProblems.UnsupportedMediaType.Problem("Send the file itself as the body, with Content-Type: text/csv.");
        }

        if (mediaType.Charset.HasValue && !mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            throw CsvProblems.UnsupportedCharset.Problem("The file must be UTF-8 (charset=utf-8).");
        }

        if (request.ContentLength > ImportLimits.MaxFileBytes)
        {
            throw TooLarge();
        }

        // Kestrel's default body limit (30 MB) is below ours; raise it a little above ours so our 413 (with its code) comes first.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = ImportLimits.MaxFileBytes + ImportLimits.ChunkBytes;
        }

        // The header must sit in the first chunk: it is checked before anything is stored.
        var buffer = new byte[ImportLimits.ChunkBytes];
        var filled = await FillAsync(request.Body, buffer, ct);
        var catalog = await FieldCatalog.LoadAsync(db, recordEntity, ct);
        CheckHeader(recordEntity, buffer.AsSpan(0, filled), filled == buffer.Length, catalog);

        var now = time.GetUtcNow();
        var job = new ImportJob
        {
            Id = Guid.NewGuid(),
            TenantId = caller.TenantId,
            Entity = recordEntity,
            Status = ImportStatus.Queued,
            CreatedBy = caller.Actor,
            CreatedAt = now,
            UpdatedAt = now,
        };

        // One transaction: the job, its file and its queue entry exist together or not at all (a 413 or a
        // dropped connection halfway leaves nothing behind).
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        db.Set<ImportJob>().Add(job);
        await db.SaveChangesAsync(ct);

        // Strict UTF-8 over the whole body as it streams by (the decoder carries a character split between chunks),
        // so a file in another encoding is refused now rather than imported as mojibake.
        var utf8 = Utf8.GetDecoder();
        for (var seq = 0; filled > 0; seq++)
        {
            job.FileBytes += filled;
            if (job.FileBytes > ImportLimits.MaxFileBytes)
            {
                throw TooLarge();
            }

            CheckUtf8(utf8, buffer.AsSpan(0, filled), flush: false);

            var data = filled == buffer.Length ? buffer : buffer[..filled];
            await db.Database.ExecuteSqlAsync($"INSERT INTO import_file_chunks (tenant_id, job_id, seq, data) VALUES ({caller.TenantId}, {job.Id}, {seq}, {data})", ct);
            filled = await FillAsync(request.Body, buffer, ct);
        }

        CheckUtf8(utf8, [], flush: true);
        queue.Enqueue(db, ImportProcessor.Kind, caller.TenantId, job.Id);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        queue.Notify();
        return TypedResults.Accepted($"/api/imports/{job.Id}", ImportJobView.From(job));
    }

    private static async Task<Ok<ImportJobView>> GetAsync(Guid id, AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(ImportJobView.From(await FindAsync(id, db, ct)));

    private static async Task<Ok<Page<ImportErrorView>>> ErrorsAsync(Guid id, string? cursor, int? limit, AppDbContext db, CancellationToken ct)
    {
        await FindAsync(id, db, ct);
        var size = Math.Clamp(limit ?? DefaultErrorPage, 1, MaxErrorPage);
        long after = 0;
        if (cursor is not null && !long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out after))
        {
            throw ApiProblems.CursorMalformed.Problem("The cursor is not one this API returned.");
        }

        var rows = await db.Set<ImportError>().AsNoTracking().Where(e => e.JobId == id && e.Id > after).OrderBy(e => e.Id).Take(size + 1).ToListAsync(ct);
        var next = rows.Count > size ? rows[size - 1].Id.ToString(CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new Page<ImportErrorView>(rows.Take(size).Select(e => new ImportErrorView(e.Row, e.Column, e.Reason)).ToList(), next));
    }

    private static async Task<PushStreamHttpResult> ErrorsCsvAsync(Guid id, AppDbContext db, CancellationToken ct)
    {
        await FindAsync(id, db, ct);
        return TypedResults.Stream(async body =>
        {
            await using var csv = CsvWriter.Create(body, CsvFormat.WriterOptions(), leaveOpen: true);
            csv.WriteField("row");
            csv.WriteField("column");
            csv.WriteField("reason");
            await csv.EndRecordAsync(ct);
            long after = 0;
            while (true)
            {
                var page = await db.Set<ImportError>().AsNoTracking().Where(e => e.JobId == id && e.Id > after).OrderBy(e => e.Id).Take(MaxErrorPage).ToListAsync(ct);
                foreach (var e in page)
                {
                    csv.WriteField(e.Row.ToString(CultureInfo.InvariantCulture));
                    csv.WriteField(e.Column ?? string.Empty);
                    csv.WriteField(e.Reason);
                    await csv.EndRecordAsync(ct);
                }

                if (page.Count < MaxErrorPage)
                {
                    break;
                }

                after = page[^1].Id;
            }

            await csv.FlushAsync(ct);
        }, CsvFormat.ContentType + "; charset=utf-8", $"import-{id}-errors.csv");
    }

    private static async Task<ImportJob> FindAsync(Guid id, AppDbContext db, CancellationToken ct) =>
        await db.Set<ImportJob>().AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, ct) ?? throw AppProblem.NotFound("The import");

    /// <summary>Refuses the upload (400, nothing stored) unless its first line is a usable header for <paramref name="entity"/>.</summary>
    private static void CheckHeader(RecordEntity entity, ReadOnlySpan<byte> start, bool more, FieldCatalog catalog)
    {
        if (start.IsEmpty)
        {
            throw CsvProblems.Empty.Problem("The file is empty; send a header row and data rows.");
        }

        var end = HeaderEnd(start);
        if (end < 0 && more)
        {
            throw CsvProblems.HeaderTooLong.Problem($"The header row must fit in the first {ImportLimits.ChunkBytes / 1024} KiB of the file.");
        }

        string text;
        try
        {
            text = Utf8.GetString(start[..(end < 0 ? start.Length : end)]);
        }
        catch (DecoderFallbackException)
        {
            throw EncodingProblem();
        }

        var malformed = false;
        using var reader = CsvReader.FromText(text, CsvFormat.ReaderOptions(_ => malformed = true));
        reader.ReadHeader();
        if (reader.Headers.Count == 0 || malformed)
        {
            throw CsvProblems.HeaderMalformed.Problem("The first row must be a CSV header: column names separated by commas.");
        }

        var (_, errors) = ImportHeader.Resolve(entity, reader.Headers, catalog);
        if (errors.Count > 0)
        {
            throw CsvProblems.HeaderInvalid.Problem("The header names columns this import cannot use, or lacks the identity column; nothing was stored.", errors);
        }
    }

    /// <summary>The byte after the first line break outside quotes, or -1. Safe on UTF-8: '"' and '\n' never occur inside a multi-byte character.</summary>
    private static int HeaderEnd(ReadOnlySpan<byte> bytes)
    {
        var quoted = false;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'"')
            {
                quoted = !quoted;
            }
            else if (bytes[i] == (byte)'\n' && !quoted)
            {
                return i + 1;
            }
        }

        return -1;
    }

    private static async Task<int> FillAsync(Stream body, byte[] buffer, CancellationToken ct)
    {
        var filled = 0;
        try
        {
            int read;
            while (filled < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(filled), ct)) > 0)
            {
                filled += read;
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge();
        }

        return filled;
    }

    private static void CheckUtf8(Decoder decoder, ReadOnlySpan<byte> bytes, bool flush)
    {
        try
        {
            decoder.GetCharCount(bytes, flush);
        }
        catch (DecoderFallbackException)
        {
            throw EncodingProblem();
        }
    }

    private static AppProblem EncodingProblem() => CsvProblems.Encoding.Problem("The file must be UTF-8 text; nothing was stored.");

    private static AppProblem TooLarge() =>
        CsvProblems.TooLarge.Problem($"The file is larger than {ImportLimits.MaxFileBytes / (1024 * 1024)} MB; split it into smaller files.");
}
