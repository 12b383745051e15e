using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Jobs;

/// <summary>
/// A unit of background work waiting for (or leased by) a worker: what kind, for which tenant, about which row.
/// It holds ids only, never tenant data, and is read across tenants by the worker, so it is exempt from
/// row-level security (docs/adr/0006-job-queue-without-rls.md); the work itself runs under the tenant.
/// </summary>
internal sealed class JobQueueEntry
{
    public long Id { get; set; }

    /// <summary>Which <see cref="IJobHandler"/> runs it, e.g. <c>csv-import</c>.</summary>
    public required string Kind { get; set; }

    public Guid TenantId { get; set; }

    /// <summary>The id of the tenant-owned row that describes the work (e.g. the import job).</summary>
    public Guid RefId { get; set; }

    public int Attempts { get; set; }

    /// <summary>Null: free to claim. In the future: leased by a worker (or backing off after a failure) until then.</summary>
    public DateTimeOffset? LockedUntil { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class JobQueueEntryConfiguration : IEntityTypeConfiguration<JobQueueEntry>
{
    public void Configure(EntityTypeBuilder<JobQueueEntry> builder)
    {
        builder.ToTable("job_queue");
        builder.HasKey(j => j.Id);
        builder.Property(j => j.Kind).HasMaxLength(40);
        builder.HasIndex(j => j.LockedUntil);
        // A purged tenant takes its pending work with it.
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(j => j.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
