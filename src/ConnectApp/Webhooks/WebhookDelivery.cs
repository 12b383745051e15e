using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Webhooks;

/// <summary>
/// One Jira webhook delivery, recorded when it arrives: its delivery id (<c>X-Atlassian-Webhook-Identifier</c>, unique
/// per tenant, so a retried delivery is recognised and changes nothing twice) and only the ids the work needs — never
/// the names or emails the payload carries. Rows are deleted after WEBHOOK_RETENTION_DAYS.
/// </summary>
internal sealed class WebhookDelivery
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public required string Identifier { get; set; }

    /// <summary>The webhook event: <c>jira:issue_created</c>, <c>user_updated</c>, <c>user_deleted</c>.</summary>
    public required string Event { get; set; }

    /// <summary>The user the event is about (user events), or the issue's reporter (issue events).</summary>
    public string? AccountId { get; set; }

    public string? IssueId { get; set; }

    public string? IssueKey { get; set; }

    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>When the worker acted on it; null while queued.</summary>
    public DateTimeOffset? ProcessedAt { get; set; }
}

internal sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.HasKey(d => d.Id);
        builder.Property(d => d.Identifier).HasMaxLength(WebhooksApi.MaxIdentifier);
        builder.Property(d => d.Event).HasMaxLength(64);
        builder.Property(d => d.AccountId).HasMaxLength(128);
        builder.Property(d => d.IssueId).HasMaxLength(32);
        builder.Property(d => d.IssueKey).HasMaxLength(64);
        builder.HasIndex(d => new { d.TenantId, d.Identifier }).IsUnique();
        builder.HasIndex(d => new { d.TenantId, d.ReceivedAt });
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(d => d.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
