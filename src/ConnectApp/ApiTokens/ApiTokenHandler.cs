using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using AtlassianConnect.Authentication;
using ConnectApp.Api;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Tenants;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ConnectApp.ApiTokens;

internal static class ApiTokenDefaults
{
    public const string AuthenticationScheme = "ApiToken";

    /// <summary>The default scheme: a bearer token is an API token, anything else is left to the Connect JWT scheme.</summary>
    public const string SelectorScheme = "ConnectJwtOrApiToken";

    public const string FailureItemKey = "connectapp:api_token_failure";
}

internal sealed class ApiTokenAuthenticationOptions : AuthenticationSchemeOptions;

/// <summary>
/// Authenticates <c>Authorization: Bearer cat_...</c>: reads the token row under the tenant the token names (a
/// separate unit of work, so an unverified tenant id never reaches the request's own <see cref="TenantScope"/>),
/// verifies the secret's hash in constant time, then checks revocation and the installation's state. Every read
/// is from the database, so a revoke takes effect at once on every instance.
/// </summary>
internal sealed class ApiTokenHandler(
    IOptionsMonitor<ApiTokenAuthenticationOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IServiceScopeFactory scopes,
    TimeProvider time) : AuthenticationHandler<ApiTokenAuthenticationOptions>(options, logger, encoder)
{
    /// <summary>last_used_at is written at most this often per token: a read-mostly integration should not turn into a write per call.</summary>
    public static readonly TimeSpan LastUsedPrecision = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        if (!ApiTokenValue.TryParse(header.AsSpan(7).Trim(), out var presented))
        {
            return Fail(ApiTokenProblems.Invalid, "The API token is not valid.");
        }

        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantScope>().Enter(presented.TenantId);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var row = await (
            from token in db.Set<ApiToken>().AsNoTracking()
            join tenant in db.Set<Tenant>().AsNoTracking() on token.TenantId equals tenant.Id
            where token.Id == presented.TokenId && token.TenantId == presented.TenantId
            select new { token.SecretHash, token.Scopes, token.RevokedAt, token.LastUsedAt, tenant.ClientKey, tenant.Enabled, tenant.UninstalledAt })
            .SingleOrDefaultAsync(Context.RequestAborted);

        // One answer for "no such token" and "wrong secret": the caller learns nothing about which ids exist.
        if (row is null || !CryptographicOperations.FixedTimeEquals(presented.SecretHash, row.SecretHash))
        {
            return Fail(ApiTokenProblems.Invalid, "The API token is not valid.");
        }

        if (row.RevokedAt is not null)
        {
            return Fail(ApiTokenProblems.Revoked, "The API token has been revoked.");
        }

        if (row.UninstalledAt is not null || !row.Enabled)
        {
            return Fail(ApiTokenProblems.TenantInactive, "The app is not installed or is disabled on this token's site.");
        }

        var now = time.GetUtcNow();
        if (row.LastUsedAt is not { } lastUsed || lastUsed <= now - LastUsedPrecision)
        {
            var cutoff = now - LastUsedPrecision;
            await db.Set<ApiToken>()
                .Where(t => t.Id == presented.TokenId && (t.LastUsedAt == null || t.LastUsedAt <= cutoff))
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);
        }

        var claims = new List<Claim>
        {
            new(ConnectJwtDefaults.TenantIdClaim, presented.TenantId.ToString()),
            new(ConnectJwtDefaults.ClientKeyClaim, row.ClientKey),
            new(AppClaims.TokenId, presented.TokenId.ToString()),
        };
        claims.AddRange(row.Scopes.Select(s => new Claim(AppClaims.TokenScope, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = Context.Items[ApiTokenDefaults.FailureItemKey] as AppProblem ?? ApiTokenProblems.Invalid.Problem("The API token is not valid.");
        Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
        await ProblemWriter.WriteAsync(Context, failure);
    }

    private AuthenticateResult Fail(ProblemType problem, string detail)
    {
        Context.Items[ApiTokenDefaults.FailureItemKey] = problem.Problem(detail);
        Logger.LogInformation("API token rejected: {FailureCode}", problem.Code);
        return AuthenticateResult.Fail(problem.Code);
    }
}
