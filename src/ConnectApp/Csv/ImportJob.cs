using ConnectApp.Fields;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Csv;

internal enum ImportStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
}

/// <summary>
/// One CSV import: what it imports, how far it got (the checkpoint a resumed run starts from), and how it ended.
/// <see cref="DoneRows"/> counts every data row processed, applied or not; <see cref="FailedRows"/> those not applied.
/// </summary>
internal sealed class ImportJob
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public RecordEntity Entity { get; set; }

    public ImportStatus Status { get; set; }

    /// <summary>Data rows in the file; null until the worker's first (counting) pass.</summary>
    public int? TotalRows { get; set; }

    public int DoneRows { get; set; }

    public int FailedRows { get; set; }

    /// <summary>Errors kept in <c>import_errors</c> (at most <see cref="ImportLimits.MaxStoredErrors"/>).</summary>
    public int ErrorsStored { get; set; }

    /// <summary>Errors beyond the cap: counted, not kept.</summary>
    public int ErrorsNotStored { get; set; }

    public long FileBytes { get; set; }

    /// <summary>Why the whole job failed (never cell contents); null otherwise.</summary>
    public string? Error { get; set; }

    /// <summary>accountId of the agent (or "token:{id}") who uploaded it; the actor of its audit rows.</summary>
    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// The uploaded file, in slices of about 1 MiB, so neither the upload nor the worker holds a whole file in memory.
/// Deleted when the job ends.
/// </summary>
internal sealed class ImportFileChunk
{
    public Guid TenantId { get; set; }

    public Guid JobId { get; set; }

    public int Seq { get; set; }

    public required byte[] Data { get; set; }
}

/// <summary>One reason a row was not applied: row number in the file (the header is row 1), column, reason.</summary>
internal sealed class ImportError
{
    public long Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid JobId { get; set; }

    public int Row { get; set; }

    /// <summary>The header name of the cell, or null when the row as a whole is wrong.</summary>
    public string? Column { get; set; }

    public required string Reason { get; set; }
}

internal static class ImportLimits
{
    public const long MaxFileBytes = 200L * 1024 * 1024;
    public const int ChunkBytes = 1024 * 1024;
    public const int BatchRows = 500;
    public const int MaxStoredErrors = 10_000;

    /// <summary>Far longer than any valid row (a paragraph is 10,000 characters): stops an unclosed quote from swallowing the file.</summary>
    public const int MaxRecordBytes = 4 * 1024 * 1024;
}

internal sealed class ImportJobConfiguration : IEntityTypeConfiguration<ImportJob>
{
    public void Configure(EntityTypeBuilder<ImportJob> builder)
    {
        builder.ToTable("import_jobs");
        builder.HasKey(j => j.Id);
        builder.Property(j => j.Entity).HasConversion<string>().HasMaxLength(16);
        builder.Property(j => j.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(j => j.Error).HasMaxLength(500);
        builder.Property(j => j.CreatedBy).HasMaxLength(160);
        builder.HasIndex(j => new { j.TenantId, j.CreatedAt });
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(j => j.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ImportFileChunkConfiguration : IEntityTypeConfiguration<ImportFileChunk>
{
    public void Configure(EntityTypeBuilder<ImportFileChunk> builder)
    {
        builder.ToTable("import_file_chunks");
        builder.HasKey(c => new { c.JobId, c.Seq });
        builder.HasOne<ImportJob>().WithMany().HasForeignKey(c => c.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ImportErrorConfiguration : IEntityTypeConfiguration<ImportError>
{
    public void Configure(EntityTypeBuilder<ImportError> builder)
    {
        builder.ToTable("import_errors");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Column).HasMaxLength(128);
        builder.Property(e => e.Reason).HasMaxLength(500);
        builder.HasIndex(e => new { e.JobId, e.Id });
        builder.HasOne<ImportJob>().WithMany().HasForeignKey(e => e.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
