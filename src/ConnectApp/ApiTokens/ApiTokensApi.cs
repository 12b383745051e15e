using ConnectApp.Api;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.ApiTokens;

/// <summary>Admins create, list and revoke the site's API tokens. No endpoint ever returns a stored secret or hash.</summary>
internal static class ApiTokensApi
{
    public sealed record CreateApiTokenRequest(string? Name, IReadOnlyList<string>? Scopes);

    public sealed record ApiTokenView(Guid Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

    /// <summary>The create answer: the view plus the token value, which is shown here once and never again.</summary>
    public sealed record CreatedApiToken(Guid Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt, string Token);

    internal static void Map(IEndpointRouteBuilder api)
    {
        var group = api.MapGroup("/admin/api-tokens").WithTags("API tokens (admin)").RequireAuthorization(RolesFeature.Admin);
        group.MapPost("/", CreateAsync).Problems(CommonProblems.ValidationFailed, ApiTokenProblems.Limit);
        group.MapGet("/", ListAsync);
        group.MapGet("/{id:guid}", GetAsync).Problems(CommonProblems.NotFound);
        group.MapDelete("/{id:guid}", RevokeAsync).Problems(CommonProblems.NotFound);
    }

    private static async Task<Created<CreatedApiToken>> CreateAsync(CreateApiTokenRequest body, Caller caller, ApiTokenWriter writer, CancellationToken ct)
    {
        var (t, value) = await writer.CreateAsync(caller, body.Name, body.Scopes, ct);
        return TypedResults.Created($"/api/admin/api-tokens/{t.Id}", new CreatedApiToken(t.Id, t.Name, t.Scopes, t.CreatedAt, t.CreatedBy, t.LastUsedAt, t.RevokedAt, value));
    }

    private static async Task<Ok<List<ApiTokenView>>> ListAsync(AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.Set<ApiToken>().AsNoTracking()
            .OrderByDescending(t => t.CreatedAt).ThenBy(t => t.Id)
            .Select(t => new ApiTokenView(t.Id, t.Name, t.Scopes, t.CreatedAt, t.CreatedBy, t.LastUsedAt, t.RevokedAt)) // the hash never leaves the database
            .ToListAsync(ct));

    private static async Task<Ok<ApiTokenView>> GetAsync(Guid id, AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await db.Set<ApiToken>().AsNoTracking().Where(t => t.Id == id)
            .Select(t => new ApiTokenView(t.Id, t.Name, t.Scopes, t.CreatedAt, t.CreatedBy, t.LastUsedAt, t.RevokedAt))
            .SingleOrDefaultAsync(ct) ?? throw AppProblem.NotFound("The API token"));

    private static async Task<NoContent> RevokeAsync(Guid id, Caller caller, ApiTokenWriter writer, CancellationToken ct)
    {
        await writer.RevokeAsync(caller, id, ct);
        return TypedResults.NoContent();
    }
}
