using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Audit;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.ApiTokens;

/// <summary>
/// The one place API tokens are created and revoked, each with its audit row in the same transaction. The audit
/// rows describe the token (id, name, scopes), never its value or hash.
/// </summary>
internal sealed class ApiTokenWriter(AppDbContext db, AuditLog audit, TimeProvider time)
{
    public const int MaxNameLength = 100;

    /// <summary>Active tokens per site: enough for every integration a site runs, small enough to review in one list.</summary>
    public const int MaxActiveTokens = 100;

    public const string Subject = "api_token";

    /// <summary>Creates a token; the returned value is the only time its secret exists outside the caller's hands.</summary>
    public async Task<(ApiToken Token, string Value)> CreateAsync(Caller caller, string? name, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxNameLength || trimmed.Any(char.IsControl))
        {
            errors["name"] = [$"is required: 1 to {MaxNameLength} characters, no control characters"];
        }

        if (scopes is null || scopes.Count == 0 || scopes.Any(s => s is null || !ApiTokenScopes.All.Contains(s)))
        {
            errors["scopes"] = [$"must be a non-empty list of: {string.Join(", ", ApiTokenScopes.All)}"];
        }

        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors);
        }

        if (await db.Set<ApiToken>().CountAsync(t => t.RevokedAt == null, cancellationToken) >= MaxActiveTokens)
        {
            throw ApiTokenProblems.Limit.Problem($"A site can have at most {MaxActiveTokens} active API tokens; revoke one first.");
        }

        var id = Guid.NewGuid();
        var (value, hash) = ApiTokenValue.Create(caller.TenantId, id);
        var token = new ApiToken
        {
            TenantId = caller.TenantId,
            Id = id,
            Name = trimmed!,
            Scopes = ApiTokenScopes.All.Where(scopes!.Contains).ToList(), // canonical order, no duplicates
            SecretHash = hash,
            CreatedBy = caller.Actor,
            CreatedAt = time.GetUtcNow(),
        };
        db.Set<ApiToken>().Add(token);
        audit.Add(caller.TenantId, caller.Actor, "api_token.created", Subject, null, null, null, Describe(token));
        await db.SaveChangesAsync(cancellationToken);
        return (token, value);
    }

    /// <summary>Revokes a token. Revoking a revoked token changes nothing (and writes no second audit row).</summary>
    public async Task RevokeAsync(Caller caller, Guid id, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        // Locked, so two concurrent revokes of one token write one audit row between them.
        var token = await db.Set<ApiToken>().FromSql($"SELECT * FROM api_tokens WHERE id = {id} FOR UPDATE").SingleOrDefaultAsync(cancellationToken)
            ?? throw AppProblem.NotFound("The API token");
        if (token.RevokedAt is not null)
        {
            return;
        }

        token.RevokedAt = time.GetUtcNow();
        audit.Add(caller.TenantId, caller.Actor, "api_token.revoked", Subject, null, null, null, Describe(token));
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    private static JsonObject Describe(ApiToken token) => new()
    {
        ["id"] = token.Id.ToString(),
        ["name"] = token.Name,
        ["scopes"] = new JsonArray(token.Scopes.Select(s => (JsonNode)JsonValue.Create(s)).ToArray()),
    };
}
