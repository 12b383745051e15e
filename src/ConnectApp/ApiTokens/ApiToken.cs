using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ConnectApp.ApiTokens;

/// <summary>
/// A credential an admin issued for an integration outside Jira. Only the SHA-256 of its secret is stored (see
/// docs/adr/0005-api-token-hashing.md); the token value itself is shown once, when it is created.
/// </summary>
internal sealed class ApiToken
{
    public Guid TenantId { get; set; }

    public Guid Id { get; set; }

    public required string Name { get; set; }

    /// <summary>A non-empty subset of <see cref="ApiTokenScopes.All"/>.</summary>
    public required List<string> Scopes { get; set; }

    /// <summary>SHA-256 of the secret part of the token value; never the secret.</summary>
    public required byte[] SecretHash { get; set; }

    /// <summary>accountId of the admin who created it.</summary>
    public required string CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Updated at most once a minute (see <see cref="ApiTokenHandler.LastUsedPrecision"/>).</summary>
    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.ToTable("api_tokens", t =>
        {
            // The writer validates both; the constraints keep a bug elsewhere from storing a token that can never verify or that grants nothing known.
            t.HasCheckConstraint("ck_api_tokens_secret_hash_sha256", "octet_length(secret_hash) = 32");
            t.HasCheckConstraint("ck_api_tokens_scopes", "cardinality(scopes) > 0 AND scopes <@ ARRAY['read','write']::text[]");
        });
        builder.HasKey(t => t.Id);
        builder.Property(t => t.Id).ValueGeneratedNever(); // part of the token value, chosen before the row is written
        builder.Property(t => t.Name).HasMaxLength(ApiTokenWriter.MaxNameLength);
        builder.Property(t => t.CreatedBy).HasMaxLength(160);
        builder.HasIndex(t => new { t.TenantId, t.CreatedAt });
        builder.HasOne<Tenants.Tenant>().WithMany().HasForeignKey(t => t.TenantId).OnDelete(DeleteBehavior.Cascade);
    }
}
