using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using AtlassianConnect;
using Microsoft.IdentityModel.JsonWebTokens;

namespace JiraSimulator;

/// <summary>An access token the authorization server granted: the user the app acts as, the scopes, when it expires.</summary>
public sealed record UserTokenGrant(string AccountId, IReadOnlySet<string> Scopes, DateTimeOffset ExpiresAt);

/// <summary>
/// A site's act-as-user tokens and the faults a test injects into their grants: <see cref="RefuseAccounts"/> (the
/// token endpoint answers that status, 400 <c>invalid_grant</c> or 401/403), <see cref="Throttle"/> (that many next
/// grants answer 429 with <c>Retry-After: 1</c>), <see cref="Lifetime"/> (the <c>expires_in</c> of new tokens).
/// </summary>
public sealed class UserTokenGrants
{
    private readonly ConcurrentDictionary<string, UserTokenGrant> _tokens = new(StringComparer.Ordinal);

    private int _granted;

    private int _throttle;

    /// <summary>How long a new token lives (Atlassian's are about 15 minutes).</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Grants for these accounts are refused with the status given (400, 401 or 403).</summary>
    public ConcurrentDictionary<string, int> RefuseAccounts { get; } = new(StringComparer.Ordinal);

    /// <summary>The next this-many token requests for the site answer 429 with <c>Retry-After: 1</c>.</summary>
    public int Throttle
    {
        get => Volatile.Read(ref _throttle);
        set => Volatile.Write(ref _throttle, value);
    }

    /// <summary>Tokens granted (successful grants).</summary>
    public int Granted => Volatile.Read(ref _granted);

    /// <summary>Every assertion the token endpoint was sent for the site, and every token it granted (tests check neither reaches a log).</summary>
    public ConcurrentQueue<string> Secrets { get; } = new();

    /// <summary>Makes every token granted so far unknown to the site (as if revoked or expired early).</summary>
    public void RevokeAll() => _tokens.Clear();

    /// <summary>The grant behind <paramref name="token"/>, if it is one of the site's and has not expired.</summary>
    public UserTokenGrant? Find(string token) =>
        _tokens.TryGetValue(token, out var grant) && grant.ExpiresAt > DateTimeOffset.UtcNow ? grant : null;

    internal bool TakeThrottle() => Countdown.TakeOne(ref _throttle);

    internal string Grant(string accountId, IReadOnlySet<string> scopes)
    {
        var token = "sim-at-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        _tokens[token] = new UserTokenGrant(accountId, scopes, DateTimeOffset.UtcNow + Lifetime);
        Interlocked.Increment(ref _granted);
        Secrets.Enqueue(token);
        return token;
    }
}

/// <summary>
/// Atlassian's OAuth 2.0 authorization server as Connect act-as-user uses it: <c>POST /oauth2/token</c>, form-urlencoded
/// <c>grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer</c>, <c>assertion</c>, optional <c>scope</c>. The assertion
/// is checked exactly: HS256 with the shared secret of the site its <c>tnt</c> names, <c>iss</c> =
/// <c>urn:atlassian:connect:clientid:{oauthClientId}</c> of that site, <c>sub</c> =
/// <c>urn:atlassian:connect:useraccountid:{a user of the site}</c>, <c>aud</c> = this server's URL, <c>iat</c>/<c>exp</c>
/// current and at most 60 s apart; the app must hold ACT_AS_USER and the scopes asked for. Refusals are RFC 6749 errors
/// (400 <c>invalid_grant</c>, <c>invalid_scope</c>, ...). Success: <c>{access_token, expires_in, token_type}</c>.
/// </summary>
internal static class OAuthServer
{
    public const string GrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer";

    private const string ClientIdPrefix = "urn:atlassian:connect:clientid:";

    private const string AccountPrefix = "urn:atlassian:connect:useraccountid:";

    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);

    public static void Map(IEndpointRouteBuilder app) => app.MapPost("/oauth2/token", TokenAsync);

    private static async Task<IResult> TokenAsync(HttpContext context, SiteDirectory sites)
    {
        if (!context.Request.HasFormContentType)
        {
            return Error(400, "invalid_request", "The request must be application/x-www-form-urlencoded.");
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        if (form["grant_type"].ToString() != GrantType)
        {
            return Error(400, "unsupported_grant_type", "Only the JWT bearer grant is supported.");
        }

        var assertion = form["assertion"].ToString();
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(assertion);
        }
        catch (ArgumentException)
        {
            return Error(400, "invalid_grant", "The assertion is not a JWT.");
        }

        var tnt = Claim(jwt, "tnt")?.TrimEnd('/');
        var site = tnt is null ? null : sites.All.FirstOrDefault(s => string.Equals(s.BaseUrl.ToString().TrimEnd('/'), tnt, StringComparison.Ordinal));
        if (site is null)
        {
            return Error(400, "invalid_grant", "The assertion's tnt is not a known site.");
        }

        site.ActAsUser.Secrets.Enqueue(assertion);
        if (site.ActAsUser.TakeThrottle())
        {
            context.Response.Headers.RetryAfter = "1";
            return Error(429, "rate_limited", "Too many token requests.");
        }

        if (site.SharedSecret is null || site.OauthClientId is null || Claim(jwt, "iss") != ClientIdPrefix + site.OauthClientId)
        {
            return Error(400, "invalid_grant", "The assertion's iss is not the app's OAuth client on the site.");
        }

        if (jwt.Alg != "HS256" || !ConnectJwt.HasValidSignature(jwt.EncodedHeader + "." + jwt.EncodedPayload, jwt.EncodedSignature, site.SharedSecret))
        {
            return Error(400, "invalid_grant", "The assertion's signature is not valid.");
        }

        var audience = $"{context.Request.Scheme}://{context.Request.Host}";
        if (!jwt.Audiences.Contains(audience, StringComparer.Ordinal))
        {
            return Error(400, "invalid_grant", "The assertion's aud is not this authorization server.");
        }

        var now = DateTimeOffset.UtcNow;
        if (!jwt.TryGetPayloadValue<long>("iat", out var iat) || !jwt.TryGetPayloadValue<long>("exp", out var exp)
            || exp <= iat || exp - iat > 60
            || DateTimeOffset.FromUnixTimeSeconds(exp) < now - Skew || DateTimeOffset.FromUnixTimeSeconds(iat) > now + Skew)
        {
            return Error(400, "invalid_grant", "The assertion's iat/exp are missing, expired, or more than 60 s apart.");
        }

        var sub = Claim(jwt, "sub");
        var accountId = sub is not null && sub.StartsWith(AccountPrefix, StringComparison.Ordinal) ? sub[AccountPrefix.Length..] : null;
        if (string.IsNullOrEmpty(accountId) || (!site.Users.ContainsKey(accountId) && site.Directory.FindCustomer(accountId) is null))
        {
            return Error(400, "invalid_grant", "The assertion's sub is not a user of the site.");
        }

        if (site.ActAsUser.RefuseAccounts.TryGetValue(accountId, out var refused))
        {
            return Error(refused, refused == 400 ? "invalid_grant" : refused == 401 ? "unauthorized_client" : "access_denied", "The user cannot be impersonated (injected).");
        }

        var granted = (site.App?.Scopes ?? []).Select(s => s.ToUpperInvariant()).ToHashSet(StringComparer.Ordinal);
        if (!granted.Contains("ACT_AS_USER"))
        {
            return Error(400, "unauthorized_client", "The app has not been granted ACT_AS_USER.");
        }

        var asked = form["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        if (asked.Any(s => s == "ACT_AS_USER" || !granted.Contains(s)))
        {
            return Error(400, "invalid_scope", "A scope asked for is not one the app holds (upper case, space separated).");
        }

        var scopes = asked.Count > 0 ? asked : granted.Where(s => s != "ACT_AS_USER").ToHashSet(StringComparer.Ordinal);
        var token = site.ActAsUser.Grant(accountId, scopes);
        return Results.Json(new JsonObject
        {
            ["access_token"] = token,
            ["expires_in"] = (int)site.ActAsUser.Lifetime.TotalSeconds,
            ["token_type"] = "Bearer",
            ["scope"] = string.Join(' ', scopes.Order(StringComparer.Ordinal)),
        });
    }

    private static string? Claim(JsonWebToken jwt, string name) => jwt.TryGetPayloadValue<string>(name, out var value) ? value : null;

    private static IResult Error(int status, string error, string description) =>
        Results.Json(new JsonObject { ["error"] = error, ["error_description"] = description }, statusCode: status);
}
