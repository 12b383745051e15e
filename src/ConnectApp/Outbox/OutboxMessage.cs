using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Outbox;

/// <summary>
/// A message waiting to be published (or published and kept for a while): written in the same transaction as the
/// change it describes, so a change and its message exist together or not at all. It holds ids only (see
/// <see cref="Contracts"/>), never tenant data, and the relay reads it across tenants, so like
/// <c>job_queue</c> before it the table is exempt from row-level security (docs/adr/0009-outbox-relay.md).
/// </summary>
internal sealed class OutboxMessage
{
    public long Id { get; set; }

    public Guid TenantId { get; set; }

    /// <summary>The contract's versioned name, also the routing key, e.g. <c>record.changed.v1</c>.</summary>
    public required string Type { get; set; }

    /// <summary>jsonb: the contract serialized.</summary>
    public required string Payload { get; set; }

    /// <summary>
    /// The writing transaction's id (<c>pg_current_xact_id()</c>, set by the database). The relay publishes in
    /// (transaction id, id) order and only rows older than every transaction still running, so a row never overtakes
    /// one from an older transaction that has not committed yet.
    /// </summary>
    public long TransactionId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// When the broker confirmed it; null while waiting for the relay. A consumer that applies a message before the relay
    /// marked it sets it too (to the time it applied it), since the relay skips rows a consumer holds locked.
    /// </summary>
    public DateTimeOffset? SentAt { get; set; }

    /// <summary>When a consumer handled it; the oldest unapplied change of a tenant is the mirror's lag.</summary>
    public DateTimeOffset? AppliedAt { get; set; }

    /// <summary>
    /// When a consumer gave up on it (dead-lettered after its retries, or refused as unreadable): no longer pending,
    /// but failed until something applies it (a reindex does), so search can say so instead of waiting forever.
    /// </summary>
    public DateTimeOffset? DeadLetteredAt { get; set; }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> builder)
    {
        builder.ToTable("outbox_messages");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Type).HasMaxLength(64);
        builder.Property(m => m.Payload).HasColumnType("jsonb");
        builder.Property(m => m.TransactionId).HasDefaultValueSql("(pg_current_xact_id()::text)::bigint").ValueGeneratedOnAdd();
        builder.Property(m => m.CreatedAt).HasDefaultValueSql("clock_timestamp()").ValueGeneratedOnAdd();

        // The relay's scan: unsent rows in publishing order.
        builder.HasIndex(m => new { m.TransactionId, m.Id }).HasFilter("sent_at IS NULL").HasDatabaseName("ix_outbox_messages_unsent");

        // Freshness: a tenant's oldest unapplied change.
        builder.HasIndex(m => new { m.TenantId, m.CreatedAt }).HasFilter("applied_at IS NULL").HasDatabaseName("ix_outbox_messages_unapplied");

        // Retention: sent rows by age.
        builder.HasIndex(m => m.SentAt).HasFilter("sent_at IS NOT NULL").HasDatabaseName("ix_outbox_messages_sent");

        // A purged tenant takes its pending messages with it.
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(m => m.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
