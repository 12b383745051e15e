using System.Text.RegularExpressions;
using ConnectApp.Records;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.Memberships;

/// <summary>
/// An admin's rule: customers whose email address is at <see cref="Domain"/> belong to the organization. <c>acme.com</c>
/// matches <c>x@acme.com</c> only; <c>*.acme.co.uk</c> matches any subdomain (<c>x@eu.acme.co.uk</c>,
/// <c>x@a.b.acme.co.uk</c>) but not <c>x@acme.co.uk</c> itself. Stored lower case.
/// </summary>
internal sealed class EmailDomainRule
{
    public Guid Id { get; set; }

    public Guid TenantId { get; set; }

    public required string Domain { get; set; }

    public Guid OrganizationId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class EmailDomainRuleConfiguration : IEntityTypeConfiguration<EmailDomainRule>
{
    public void Configure(EntityTypeBuilder<EmailDomainRule> builder)
    {
        builder.ToTable("email_domain_rules");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Domain).HasMaxLength(EmailDomains.MaxLength);
        builder.HasIndex(r => new { r.TenantId, r.Domain, r.OrganizationId }).IsUnique();
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(r => r.TenantId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<Record>().WithMany().HasForeignKey(r => r.OrganizationId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Domain syntax and matching of email-domain rules.</summary>
internal static partial class EmailDomains
{
    /// <summary>RFC 1035's limit on a domain name (the <c>*.</c> of a wildcard included).</summary>
    public const int MaxLength = 253;

    /// <summary>Letters, digits and hyphens per label (1 to 63, no hyphen at either end), at least two labels, a top-level label that is not all digits.</summary>
    [GeneratedRegex(@"^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex Syntax();

    /// <summary>The rule's domain as stored (trimmed, lower case), or null when it is not a domain or <c>*.</c> + domain.</summary>
    public static string? Normalize(string? domain)
    {
        var text = domain?.Trim().TrimEnd('.').ToLowerInvariant();
        return text is { Length: > 0 and <= MaxLength } && Syntax().IsMatch(text) ? text : null;
    }

    public static bool IsWildcard(string domain) => domain.StartsWith("*.", StringComparison.Ordinal);

    /// <summary>Whether <paramref name="email"/>'s domain is <paramref name="domain"/> (or, for <c>*.x</c>, a subdomain of x).</summary>
    public static bool Matches(string? email, string domain)
    {
        var at = email?.LastIndexOf('@') ?? -1;
        if (at < 0)
        {
            return false;
        }

        var host = email![(at + 1)..].Trim().TrimEnd('.').ToLowerInvariant();
        return IsWildcard(domain) ? host.EndsWith(domain[1..], StringComparison.Ordinal) && host.Length > domain.Length - 1 : host == domain;
    }

    /// <summary>The SQL LIKE pattern of lower(email) that <see cref="Matches"/> agrees with (domains hold no LIKE wildcards: see the syntax).</summary>
    public static string LikePattern(string domain) => IsWildcard(domain) ? "%@%" + domain[1..] : "%@" + domain;
}
