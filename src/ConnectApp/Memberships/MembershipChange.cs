using ConnectApp.Records;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Memberships;

internal enum MembershipOperation
{
    Add,
    Remove,
}

internal enum WriteBackState
{
    /// <summary>Waiting for the worker (or between its attempts: <see cref="MembershipChange.Attempts"/> and <see cref="MembershipChange.Reason"/> say how it went so far).</summary>
    Pending,

    /// <summary>JSM answered 204: the organization's members in JSM match the app's.</summary>
    Done,

    /// <summary>JSM refused it, or did not answer on any attempt; <see cref="MembershipChange.Reason"/> says why. An admin can retry it.</summary>
    Failed,

    /// <summary>The customer or the organization was made in the app and never seen in JSM (or is gone from it): nothing to write back.</summary>
    NotInJsm,

    /// <summary>A later change of the same membership replaced it before it reached JSM (only the latest is written back).</summary>
    Superseded,

    /// <summary>
    /// Made in JSM itself, seen by the directory sync (a removal there): nothing to write back. Recorded so that an
    /// email-domain rule does not undo it, as it does not undo an agent's removal in the app.
    /// </summary>
    FromJsm,
}

/// <summary>
/// One membership change made in the app (by an agent, a bulk edit or an email-domain rule) and how its write-back to
/// JSM went. Written in the change's own transaction, with the outbox command that asks the worker to write the
/// organization's pending changes back. Failures stay here, per record, until retried; nothing is dropped silently.
/// </summary>
internal sealed class MembershipChange
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public Guid CustomerId { get; set; }

    public Guid OrganizationId { get; set; }

    public MembershipOperation Operation { get; set; }

    public WriteBackState State { get; set; }

    /// <summary>Calls to JSM made for it (retries of the message included; the HTTP client's own retries of one call are not counted).</summary>
    public int Attempts { get; set; }

    /// <summary>Why it failed (or why the last attempt did), or why it cannot be written back. Never personal data.</summary>
    public string? Reason { get; set; }

    /// <summary>
    /// Who made it, as audit rows name actors: an agent's accountId (written back as that agent, act-as-user), or
    /// <c>token:{id}</c> / <c>system:{name}</c> (written back as the app). Null on rows older than act-as-user: the app.
    /// </summary>
    public string? Actor { get; set; }

    /// <summary>The email-domain rule that caused it, if one did.</summary>
    public Guid? RuleId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>When it reached a final state (done, failed, superseded, not in JSM).</summary>
    public DateTimeOffset? CompletedAt { get; set; }

    public const int ReasonLength = 500;

    public static string Truncate(string text) => text.Length <= ReasonLength ? text : text[..(ReasonLength - 3)] + "...";
}

internal sealed class MembershipChangeConfiguration : IEntityTypeConfiguration<MembershipChange>
{
    public void Configure(EntityTypeBuilder<MembershipChange> builder)
    {
        builder.ToTable("membership_changes");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Operation).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.State).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.Reason).HasMaxLength(MembershipChange.ReasonLength);
        builder.Property(c => c.Actor).HasMaxLength(160);
        builder.HasIndex(c => new { c.TenantId, c.OrganizationId, c.State });
        builder.HasIndex(c => new { c.TenantId, c.State, c.CreatedAt });
        builder.HasIndex(c => new { c.TenantId, c.CustomerId, c.OrganizationId });
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(c => c.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Record>().WithMany().HasForeignKey(c => c.CustomerId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Record>().WithMany().HasForeignKey(c => c.OrganizationId).OnDelete(DeleteBehavior.Cascade);
    }
}
