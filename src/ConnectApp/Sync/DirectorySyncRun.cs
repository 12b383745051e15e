using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Sync;

internal enum SyncStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,

    /// <summary>Another sync of the same site was running when this one started: it read and wrote nothing.</summary>
    Skipped,
}

internal enum SyncPhase
{
    /// <summary>Waiting for a worker.</summary>
    Queued,

    /// <summary>Paging through JSM: service desks, organizations, customers, members (<see cref="DirectorySyncRun.Fetched"/> counts them).</summary>
    Reading,

    /// <summary>Writing what changed, in batches (<see cref="DirectorySyncRun.Done"/> of <see cref="DirectorySyncRun.Total"/>).</summary>
    Writing,

    Done,
}

/// <summary>
/// One full sync of a tenant's JSM directory into its organizations and customers, and how far it got. A run that
/// is redelivered after a crash starts over from JSM; its writes compare before they change anything, so nothing is
/// duplicated or changed twice.
/// </summary>
internal sealed class DirectorySyncRun
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public SyncStatus Status { get; set; }

    public SyncPhase Phase { get; set; }

    /// <summary><c>install</c>, <c>admin</c> or <c>schedule</c>.</summary>
    public required string Trigger { get; set; }

    /// <summary>Organizations, customers and memberships read from JSM so far.</summary>
    public long Fetched { get; set; }

    /// <summary>Records to write (JSM organizations and customers, and records gone from JSM); known once reading is done.</summary>
    public long? Total { get; set; }

    public long Done { get; set; }

    public int Created { get; set; }

    public int Updated { get; set; }

    public int Removed { get; set; }

    public int Restored { get; set; }

    /// <summary>Failed attempts (Jira or the database); the last one's reason is <see cref="Error"/>.</summary>
    public int Errors { get; set; }

    public string? Error { get; set; }

    public required string RequestedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>When the writing phase began: the rate and ETA are measured from here.</summary>
    public DateTimeOffset? WritingAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class DirectorySyncRunConfiguration : IEntityTypeConfiguration<DirectorySyncRun>
{
    public void Configure(EntityTypeBuilder<DirectorySyncRun> builder)
    {
        builder.ToTable("directory_sync_runs");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Phase).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.Trigger).HasMaxLength(16);
        builder.Property(r => r.Error).HasMaxLength(500);
        builder.Property(r => r.RequestedBy).HasMaxLength(160);
        builder.HasIndex(r => new { r.TenantId, r.CreatedAt });
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
