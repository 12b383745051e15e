using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using CsvHelper;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Csv;

/// <summary>
/// Runs an import job in the worker, under the job's tenant. Two streaming passes over the stored file: the first
/// counts the rows (so progress has a total) and proves the file is readable CSV before anything is applied; the second parses each row against the field definitions and applies valid rows through
/// <see cref="ImportWriter"/> in batches. Each batch commits with its error rows and the job's progress, which is
/// the checkpoint: a job resumed after a crash or restart skips the rows already done. Started by an
/// <see cref="ImportRequested"/> message (the upload's outbox row); the message stays unacknowledged while the import
/// runs, so a worker that dies mid-import hands it to another, which resumes from the checkpoint.
/// </summary>
internal sealed class ImportProcessor(AppDbContext db, ImportWriter writer, TimeProvider time, ILogger<ImportProcessor> logger) : IMessageHandler
{
    public async Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken)
    {
        if (!Commands.TryRead<ImportRequested>(body, context, m => m.ImportId, out var message, out var refusal))
        {
            return refusal;
        }

        try
        {
            await RunAsync(message.ImportId, cancellationToken);
            return HandlerResult.Success;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            if (!context.LastAttempt)
            {
                logger.LogWarning(e, "Import {ImportId} failed on attempt {Attempt}; it will be retried", message.ImportId, context.Attempt);
                return HandlerResult.Retry(e.GetType().Name + ": " + e.Message);
            }

            // Out of attempts: say so on the job, where the user looks, and let the listener dead-letter the message.
            await GiveUpAsync(message.ImportId, cancellationToken);
            return HandlerResult.Reject($"The import failed on every attempt; last error: {e.GetType().Name}: {e.Message}");
        }
    }

    public async Task RunAsync(Guid refId, CancellationToken cancellationToken)
    {
        var job = await db.Set<ImportJob>().SingleOrDefaultAsync(j => j.Id == refId, cancellationToken);
        if (job is null || job.Status is ImportStatus.Succeeded or ImportStatus.Failed)
        {
            return; // purged, or finished by another worker
        }

        job.Status = ImportStatus.Running;
        job.StartedAt ??= time.GetUtcNow();
        job.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        try
        {
            if (job.TotalRows is null)
            {
                job.TotalRows = await CountRowsAsync(job.Id, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }

            await ApplyAsync(job, cancellationToken);
        }
        catch (CsvFormatException)
        {
            // The file itself is unreadable (the upload already proved it is UTF-8); retrying will not help.
            const string reason = "The file is not readable CSV: a row is longer than 4 MiB (an unclosed quote?).";
            logger.LogWarning("Import {ImportId} failed: unreadable CSV", job.Id);
            await FinishAsync(job, ImportStatus.Failed, reason + (job.DoneRows > 0 ? $" The first {job.DoneRows} rows were processed." : " Nothing was changed."), cancellationToken);
        }
    }

    public async Task GiveUpAsync(Guid refId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        if (await db.Set<ImportJob>().SingleOrDefaultAsync(j => j.Id == refId, cancellationToken) is { Status: not (ImportStatus.Succeeded or ImportStatus.Failed) } job)
        {
            await FinishAsync(job, ImportStatus.Failed, $"The import stopped after repeated errors; the first {job.DoneRows} rows were processed.", cancellationToken);
        }
    }

    private async Task<int> CountRowsAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var stream = new ImportFileStream(db, jobId);
        await using var reader = CsvReader.Create(stream, CsvFormat.ReaderOptions(), leaveOpen: false);
        var rows = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            rows++;
        }

        return rows;
    }

    private async Task ApplyAsync(ImportJob job, CancellationToken cancellationToken)
    {
        // Record numbers (the header is 1) of rows with broken quoting; the reader reports them as it scans ahead.
        var malformed = new HashSet<long>();
        await using var stream = new ImportFileStream(db, job.Id);
        await using var reader = CsvReader.Create(stream, CsvFormat.ReaderOptions(m => malformed.Add(m.RecordNumber)), leaveOpen: false);
        await reader.ReadHeaderAsync(cancellationToken);
        var catalog = await FieldCatalog.LoadAsync(db, job.Entity, cancellationToken);
        var (header, headerErrors) = ImportHeader.Resolve(job.Entity, reader.Headers, catalog);
        if (header is null)
        {
            // Checked at upload; only a field archived since then gets here.
            await FinishAsync(job, ImportStatus.Failed, "The header no longer matches the fields: " + string.Join(", ", headerErrors.Keys) + ". Nothing was changed.", cancellationToken);
            return;
        }

        for (var skipped = 0; skipped < job.DoneRows && await reader.ReadAsync(cancellationToken); skipped++)
        {
            // resuming: these rows were applied (or reported) by an earlier run
        }

        var caller = Caller.ForBackgroundWork(job.TenantId, job.CreatedBy);
        while (true)
        {
            var rows = new List<ImportWriter.ImportRow>(ImportLimits.BatchRows);
            var errors = new List<ImportWriter.ImportRowError>();
            var read = 0;
            while (read < ImportLimits.BatchRows && await reader.ReadAsync(cancellationToken))
            {
                read++;
                var rowNumber = (int)reader.RowNumber + 1;
                if (Parse(reader, rowNumber, header, malformed.Remove(rowNumber), errors) is { } row)
                {
                    rows.Add(row);
                }
            }

            if (read == 0)
            {
                break;
            }

            if (!await CommitBatchAsync(job, caller, rows, errors, read, cancellationToken))
            {
                return; // another worker took the job over and is ahead of us
            }
        }

        await FinishAsync(job, ImportStatus.Succeeded, null, cancellationToken);
        logger.LogInformation("Import {ImportId} done: {Total} rows, {Failed} not applied", job.Id, job.TotalRows, job.FailedRows);
    }

    /// <summary>One row's cells as the writer takes them, or null (and errors) when the row as a whole is unusable.</summary>
    private static ImportWriter.ImportRow? Parse(CsvReader reader, int row, ImportHeader header, bool badRow, List<ImportWriter.ImportRowError> errors)
    {
        var cells = new string[reader.FieldCount];
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = FormulaGuard.Unprotect(reader.GetString(i) ?? string.Empty);
        }

        if (badRow)
        {
            errors.Add(new(row, null, "is not valid CSV (a quote inside an unquoted cell, or an unclosed quote)"));
            return null;
        }

        if (cells.Length != header.Names.Length)
        {
            errors.Add(new(row, null, $"has {cells.Length} cells; the header has {header.Names.Length}"));
            return null;
        }

        var externalId = cells[header.IdentityIndex].Trim();
        if (externalId.Length == 0)
        {
            errors.Add(new(row, header.Names[header.IdentityIndex], "is required"));
            return null;
        }

        var values = header.Fields.Select(f =>
        {
            var text = cells[f.Index];
            var (value, error) = FieldValues.FromText(f.Field, text);
            return new ImportWriter.ImportCell(f.Field, text, value, error);
        }).ToList();
        return new ImportWriter.ImportRow(
            row,
            externalId,
            header.NameIndex is { } n ? cells[n] : null,
            header.EmailIndex is not null,
            header.EmailIndex is { } e ? cells[e] : null,
            header.OrganizationsIndex is { } o ? cells[o].Split(FieldValues.MultiSeparator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : null,
            values);
    }

    /// <summary>Applies a batch and records its errors and the job's progress in one transaction; false if the job moved on without us.</summary>
    private async Task<bool> CommitBatchAsync(ImportJob job, Caller caller, List<ImportWriter.ImportRow> rows, List<ImportWriter.ImportRowError> errors, int read, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var doneInDatabase = await db.Database.SqlQuery<int>($"SELECT done_rows AS \"Value\" FROM import_jobs WHERE id = {job.Id} FOR UPDATE").SingleAsync(cancellationToken);
        if (doneInDatabase != job.DoneRows)
        {
            return false;
        }

        var result = rows.Count == 0 ? new ImportWriter.ImportBatchResult(0, 0, []) : await writer.ApplyAsync(caller, job.Entity, rows, cancellationToken);
        var all = errors.Concat(result.Errors).OrderBy(e => e.Row).ToList();
        foreach (var error in all)
        {
            if (job.ErrorsStored < ImportLimits.MaxStoredErrors)
            {
                db.Set<ImportError>().Add(new ImportError { TenantId = job.TenantId, JobId = job.Id, Row = error.Row, Column = error.Column, Reason = Truncate(error.Reason) });
                job.ErrorsStored++;
            }
            else
            {
                job.ErrorsNotStored++;
            }
        }

        job.FailedRows += all.Select(e => e.Row).Distinct().Count();
        job.DoneRows += read;
        job.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);

        // Keep memory flat over 100,000 rows: forget the batch's records and audit rows, keep following the job.
        db.ChangeTracker.Clear();
        db.Attach(job);
        return true;
    }

    private async Task FinishAsync(ImportJob job, ImportStatus status, string? error, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        job.Status = status;
        job.Error = error is null ? null : Truncate(error);
        job.FinishedAt = job.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        // The file has served its purpose; the report lives in import_errors.
        await db.Set<ImportFileChunk>().Where(c => c.JobId == job.Id).ExecuteDeleteAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..497] + "...";
}
