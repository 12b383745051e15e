using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using AtlassianConnect.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AtlassianConnect.Forge;

/// <summary>Options of the Forge Invocation Token scheme; the settings live in <see cref="ForgeOptions"/>.</summary>
public sealed class ForgeInvocationTokenOptions : AuthenticationSchemeOptions;

/// <summary>Names used by the Forge Invocation Token scheme.</summary>
public static class ForgeDefaults
{
    /// <summary>The scheme name.</summary>
    public const string AuthenticationScheme = "ForgeInvocationToken";

    /// <summary>The only issuer of invocation tokens.</summary>
    public const string Issuer = "forge/invocation-token";

    /// <summary>Value of <see cref="ConnectJwtDefaults.TokenKindClaim"/> for a Forge Invocation Token.</summary>
    public const string TokenKind = "forge";

    /// <summary>Claim: the Forge installation id.</summary>
    public const string InstallationIdClaim = "forge:installation_id";

    /// <summary>Whether an <c>Authorization</c> value is a bearer JWT (three base64url parts), as invocation tokens are.</summary>
    public static bool IsBearerJwt(string authorization) =>
        authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization[7..].Trim().Count(c => c == '.') == 2;
}

/// <summary>
/// Authenticates Forge Remote calls: <c>Authorization: Bearer &lt;Forge Invocation Token&gt;</c>, RS256 only, signed by
/// a key of the Forge JWKS, <c>iss</c> = <c>forge/invocation-token</c>, <c>aud</c> = the configured app's ARI, within its
/// lifetime (small leeway). The installation it names must be a known Connect installation
/// (<see cref="IForgeInstallationStore"/>); the principal then carries the same tenant, clientKey and accountId claims
/// as a Connect JWT, so the app's roles and tenant rules apply unchanged, and the <see cref="ForgeInvocation"/> is a
/// request feature.
/// </summary>
public sealed class ForgeInvocationTokenHandler(
    IOptionsMonitor<ForgeInvocationTokenOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<ForgeOptions> forge,
    ForgeKeySet keys,
    IForgeInstallationStore installations,
    TimeProvider time) : AuthenticationHandler<ForgeInvocationTokenOptions>(options, logger, encoder)
{
    private static readonly JsonWebTokenHandler Tokens = new() { MapInboundClaims = false };

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!ForgeDefaults.IsBearerJwt(header))
        {
            return AuthenticateResult.NoResult();
        }

        var settings = forge.Value;
        if (settings.Audience is not { } audience)
        {
            return Fail("fit.not_configured", "This app does not accept Forge Invocation Tokens.");
        }

        var token = header[7..].Trim();
        if (token.Length > settings.MaxTokenLength)
        {
            return Fail("fit.too_large", "The Forge Invocation Token is too large.");
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return Fail("fit.malformed", "The Forge Invocation Token could not be read.");
        }

        if (jwt.Alg != SecurityAlgorithms.RsaSha256)
        {
            return Fail("fit.algorithm_not_allowed", "Forge Invocation Tokens must be signed with RS256.");
        }

        if (string.IsNullOrEmpty(jwt.Kid) || jwt.Kid.Length > 256)
        {
            return Fail("fit.missing_kid", "The Forge Invocation Token names no signing key.");
        }

        var key = await keys.GetAsync(jwt.Kid, Context.RequestAborted);
        if (key.Unavailable)
        {
            return Fail("fit.keys_unavailable", "The Forge signing keys could not be read; try again shortly.", StatusCodes.Status503ServiceUnavailable);
        }

        if (key.Key is null)
        {
            return Fail("fit.unknown_kid", "The Forge Invocation Token is signed with an unknown key.");
        }

        var result = await Tokens.ValidateTokenAsync(jwt, new TokenValidationParameters
        {
            ValidIssuer = ForgeDefaults.Issuer,
            ValidAudience = audience,
            IssuerSigningKey = key.Key,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = settings.ClockSkew,
            LifetimeValidator = (notBefore, expires, _, _) => Lifetime(notBefore, expires, settings.ClockSkew),
        });
        if (!result.IsValid)
        {
            return result.Exception switch
            {
                SecurityTokenExpiredException => Fail("fit.expired", "The Forge Invocation Token has expired."),
                SecurityTokenNotYetValidException => Fail("fit.not_yet_valid", "The Forge Invocation Token is not valid yet."),
                SecurityTokenInvalidAudienceException => Fail("fit.wrong_audience", "The Forge Invocation Token is for another app."),
                SecurityTokenInvalidIssuerException => Fail("fit.wrong_issuer", "The token was not issued by Forge."),
                SecurityTokenInvalidLifetimeException => Fail("fit.expired", "The Forge Invocation Token is outside its lifetime."),
                SecurityTokenNoExpirationException => Fail("fit.missing_exp", "The Forge Invocation Token has no expiry."),
                _ => Fail("fit.invalid_signature", "The Forge Invocation Token's signature does not verify."),
            };
        }

        var invocation = Read(jwt);
        if (invocation is null)
        {
            return Fail("fit.malformed", "The Forge Invocation Token lacks app.installationId or app.apiBaseUrl.");
        }

        if (!settings.IsAllowedApiBaseUrl(invocation.ApiBaseUrl.ToString()))
        {
            return Fail("fit.api_base_url_not_allowed", "The Forge Invocation Token's apiBaseUrl is not an Atlassian API gateway.");
        }

        var tenant = await installations.FindByInstallationAsync(invocation.InstallationId, Context.RequestAborted);
        if (tenant is null)
        {
            return Fail("fit.unknown_installation", "This Forge installation is not linked to an installation of the app.");
        }

        if (tenant.State == ConnectTenantState.Uninstalled)
        {
            return Fail("fit.tenant_uninstalled", "The app is not installed on this site.");
        }

        if (tenant.State == ConnectTenantState.Disabled && Context.GetEndpoint()?.Metadata.GetMetadata<AllowDisabledTenantAttribute>() is null)
        {
            return Fail("fit.tenant_disabled", "The app is disabled on this site.");
        }

        Context.Features.Set(invocation with
        {
            AppSystemToken = Header("x-forge-oauth-system"),
            AppUserToken = Header("x-forge-oauth-user"),
        });
        var claims = new List<Claim>
        {
            new(ConnectJwtDefaults.TenantIdClaim, tenant.TenantId.ToString()),
            new(ConnectJwtDefaults.ClientKeyClaim, tenant.ClientKey),
            new(ConnectJwtDefaults.TokenKindClaim, ForgeDefaults.TokenKind),
            new(ForgeDefaults.InstallationIdClaim, invocation.InstallationId),
        };
        if (invocation.AccountId is { } accountId)
        {
            claims.Add(new(ConnectJwtDefaults.AccountIdClaim, accountId));
            claims.Add(new(ClaimTypes.NameIdentifier, accountId));
        }

        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name)), Scheme.Name));
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = Context.Items[ConnectJwtDefaults.FailureItemKey] as ConnectAuthFailure
            ?? new ConnectAuthFailure("fit.missing", "This endpoint needs a Forge Invocation Token (Authorization: Bearer <token>).");
        await ConnectProblems.WriteAsync(Context, failure, "Bearer");
    }

    private bool Lifetime(DateTime? notBefore, DateTime? expires, TimeSpan skew)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (expires is not { } exp)
        {
            throw new SecurityTokenNoExpirationException("no exp");
        }

        if (now - skew >= exp)
        {
            throw new SecurityTokenExpiredException("expired") { Expires = exp };
        }

        if (notBefore is { } nbf && now + skew < nbf)
        {
            throw new SecurityTokenNotYetValidException("not yet valid") { NotBefore = nbf };
        }

        return true;
    }

    private string? Header(string name) => Request.Headers.TryGetValue(name, out var v) && v.ToString() is { Length: > 0 } s ? s : null;

    private static ForgeInvocation? Read(JsonWebToken jwt)
    {
        if (!jwt.TryGetPayloadValue<JsonElement>("app", out var app) || app.ValueKind != JsonValueKind.Object
            || Text(app, "installationId") is not { } installationId
            || !Uri.TryCreate(Text(app, "apiBaseUrl"), UriKind.Absolute, out var apiBaseUrl))
        {
            return null;
        }

        string? principal = null;
        if (jwt.TryGetPayloadValue<string>("principal", out var id) && id is { Length: > 0 and <= 128 })
        {
            principal = id;
        }

        var module = app.TryGetProperty("module", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
        var environment = app.TryGetProperty("environment", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
        bool? license = app.TryGetProperty("license", out var l) && l.ValueKind == JsonValueKind.Object && l.TryGetProperty("isActive", out var a) && a.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? a.GetBoolean()
            : null;
        JsonElement? context = jwt.TryGetPayloadValue<JsonElement>("context", out var c) && c.ValueKind == JsonValueKind.Object ? c.Clone() : null;
        return new ForgeInvocation(installationId, apiBaseUrl, principal, Text(module, "type"), Text(module, "key"), Text(environment, "type"), license, context, null, null);
    }

    private static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

    private AuthenticateResult Fail(string code, string detail, int status = StatusCodes.Status401Unauthorized)
    {
        var failure = new ConnectAuthFailure(code, detail, status);
        Context.Items[ConnectJwtDefaults.FailureItemKey] = failure;
        Logger.LogInformation("Forge Invocation Token rejected: {FailureCode}", code);
        return AuthenticateResult.Fail(code);
    }
}
