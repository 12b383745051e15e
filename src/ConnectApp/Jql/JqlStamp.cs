using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Jql;

/// <summary>
/// What was last written into the JQL property of a customer's issues (a hash of it): a change that leaves the
/// searchable values as they were costs no Jira call, and a repeated message changes nothing.
/// </summary>
internal sealed class JqlStamp
{
    public Guid CustomerId { get; set; }

    public Guid TenantId { get; set; }

    public required string Hash { get; set; }

    public int Issues { get; set; }

    public DateTimeOffset StampedAt { get; set; }
}

internal sealed class JqlStampConfiguration : IEntityTypeConfiguration<JqlStamp>
{
    public void Configure(EntityTypeBuilder<JqlStamp> builder)
    {
        builder.ToTable("jql_stamps");
        builder.HasKey(s => s.CustomerId);
        builder.Property(s => s.Hash).HasMaxLength(64);
        builder.HasIndex(s => s.TenantId);
        builder.HasOne<Records.Record>().WithMany().HasForeignKey(s => s.CustomerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(s => s.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
