using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AtlassianConnect.Authentication;

/// <summary>Options of the Connect JWT scheme; the shared settings live in <see cref="ConnectOptions"/>.</summary>
public sealed class ConnectJwtOptions : AuthenticationSchemeOptions;

/// <summary>
/// Authenticates requests signed by Jira (iframe and webhook tokens) or by the app's own frontend
/// (context tokens): HS256 only, the tenant's shared secret, lifetime with leeway, and the query
/// string hash of exactly this request.
/// </summary>
public sealed class ConnectJwtHandler(
    IOptionsMonitor<ConnectJwtOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<ConnectOptions> connect,
    IConnectTenantStore tenants,
    TimeProvider time) : AuthenticationHandler<ConnectJwtOptions>(options, logger, encoder)
{
    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var (token, extractFailure) = await ExtractTokenAsync();
        if (extractFailure is not null)
        {
            return Fail(extractFailure);
        }

        if (token is null)
        {
            return AuthenticateResult.NoResult();
        }

        var settings = connect.Value;
        if (token.Length > settings.MaxTokenLength)
        {
            return Fail(new("jwt.too_large", $"The token is longer than {settings.MaxTokenLength} characters."));
        }

        // A context token the app verified before (the iframe's calls reuse one for minutes): its claims as read then,
        // believed only while the installation's shared secret is the one it verified under. Everything that depends
        // on the time, the installation's state or the endpoint is checked again below, as for a new token.
        var verified = Context.RequestServices.GetService<VerifiedContextTokens>();
        ConnectTenant? tenant = null;
        if (verified?.Find(token) is { } known)
        {
            tenant = await tenants.FindAsync(known.Issuer, refresh: false, Context.RequestAborted);
            if (tenant is not null && string.Equals(tenant.SharedSecret, known.SharedSecret, StringComparison.Ordinal))
            {
                return Validate(known, tenant, settings, token: null, verified: null);
            }
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException or JsonException or FormatException)
        {
            return Fail(new("jwt.malformed", "The token is not a well-formed JWT."));
        }

        if (jwt.Alg != SecurityAlgorithms.HmacSha256)
        {
            return Fail(new("jwt.algorithm_not_allowed", "Only HS256 tokens are accepted here."));
        }

        if (!jwt.TryGetPayloadValue<string>("iss", out var issuer) || string.IsNullOrEmpty(issuer))
        {
            return Fail(new("jwt.missing_issuer", "The token has no iss claim."));
        }

        tenant = await tenants.FindAsync(issuer, refresh: false, Context.RequestAborted);
        if (tenant is null)
        {
            return Fail(new("jwt.unknown_issuer", "The token's issuer is not an installation of this app."));
        }

        var signingInput = jwt.EncodedHeader + "." + jwt.EncodedPayload;
        if (!ConnectJwt.HasValidSignature(signingInput, jwt.EncodedSignature, tenant.SharedSecret))
        {
            // The secret may have been rotated by a reinstall handled on another instance: read once more.
            var fresh = await tenants.FindAsync(issuer, refresh: true, Context.RequestAborted);
            if (fresh is null || fresh.SharedSecret == tenant.SharedSecret || !ConnectJwt.HasValidSignature(signingInput, jwt.EncodedSignature, fresh.SharedSecret))
            {
                return Fail(new("jwt.invalid_signature", "The token's signature does not verify with this installation's shared secret."));
            }

            tenant = fresh;
        }

        var claims = new VerifiedContextTokens.Claims(
            issuer,
            tenant.SharedSecret,
            jwt.TryGetPayloadValue<long>("exp", out var exp) ? exp : null,
            jwt.TryGetPayloadValue<long>("nbf", out var nbf) ? nbf : null,
            jwt.TryGetPayloadValue<long>("iat", out var iat) ? iat : null,
            jwt.TryGetPayloadValue<string>("qsh", out var qsh) ? qsh : null,
            AccountId(jwt),
            ProjectId(jwt));
        return Validate(claims, tenant, settings, token, verified);
    }

    /// <summary>The checks after the signature, in the order a new token meets them; a context token that passes is remembered.</summary>
    private AuthenticateResult Validate(VerifiedContextTokens.Claims jwt, ConnectTenant tenant, ConnectOptions settings, string? token, VerifiedContextTokens? verified)
    {
        var now = time.GetUtcNow();
        if (jwt.Exp is not { } exp)
        {
            return Fail(new("jwt.missing_exp", "The token has no exp claim."));
        }

        if (now >= DateTimeOffset.FromUnixTimeSeconds(exp).Add(settings.ClockSkew))
        {
            return Fail(new("jwt.expired", "The token has expired."));
        }

        if (jwt.Nbf is { } nbf && DateTimeOffset.FromUnixTimeSeconds(nbf) > now.Add(settings.ClockSkew))
        {
            return Fail(new("jwt.not_yet_valid", "The token is not valid yet."));
        }

        if (jwt.Iat is not { } iat)
        {
            return Fail(new("jwt.missing_iat", "The token has no iat claim."));
        }

        if (DateTimeOffset.FromUnixTimeSeconds(iat) > now.Add(settings.ClockSkew))
        {
            return Fail(new("jwt.issued_in_future", "The token's iat is in the future."));
        }

        var endpoint = Context.GetEndpoint();
        switch (tenant.State)
        {
            case ConnectTenantState.Uninstalled:
                return Fail(new("jwt.tenant_uninstalled", "The app is not installed on this site."));
            case ConnectTenantState.Disabled when endpoint?.Metadata.GetMetadata<AllowDisabledTenantAttribute>() is null:
                return Fail(new("jwt.tenant_disabled", "The app is disabled on this site."));
        }

        if (string.IsNullOrEmpty(jwt.Qsh))
        {
            return Fail(new("jwt.missing_qsh", "The token has no qsh claim."));
        }

        string kind;
        if (jwt.Qsh == QueryStringHash.ContextQsh)
        {
            // No endpoint matched: nothing will run, and the caller should see the 404, not a token complaint.
            if (endpoint is not null && endpoint.Metadata.GetMetadata<AllowContextTokenAttribute>() is null)
            {
                return Fail(new("jwt.context_token_not_allowed", "A context token is not accepted on this endpoint."));
            }

            kind = "context";
            if (token is not null)
            {
                verified?.Remember(token, jwt, now); // only context tokens are used again; a request token is bound to one URL
            }
        }
        else
        {
            var expected = QueryStringHash.Compute(Request.Method, RequestTarget.Raw(Context), settings.BasePath);
            if (!FixedTimeEquals(expected, jwt.Qsh))
            {
                return Fail(new("jwt.qsh_mismatch", "The token's qsh does not match this request."));
            }

            kind = "request";
        }

        var claims = new List<Claim>(6)
        {
            new(ConnectJwtDefaults.TenantIdClaim, tenant.TenantId.ToString()),
            new(ConnectJwtDefaults.ClientKeyClaim, tenant.ClientKey),
            new(ConnectJwtDefaults.TokenKindClaim, kind),
        };
        if (jwt.AccountId is { } accountId)
        {
            claims.Add(new(ConnectJwtDefaults.AccountIdClaim, accountId));
            claims.Add(new(ClaimTypes.NameIdentifier, accountId));
        }

        if (jwt.ProjectId is { } projectId)
        {
            claims.Add(new(ConnectJwtDefaults.ProjectIdClaim, projectId));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = Context.Items[ConnectJwtDefaults.FailureItemKey] as ConnectAuthFailure
            ?? new ConnectAuthFailure("jwt.missing", "This endpoint needs a Connect JWT (Authorization: JWT <token> or the jwt query parameter).");
        await ConnectProblems.WriteAsync(Context, failure);
    }

    private AuthenticateResult Fail(ConnectAuthFailure failure)
    {
        Context.Items[ConnectJwtDefaults.FailureItemKey] = failure;
        Logger.LogInformation("Connect JWT rejected: {FailureCode}", failure.Code);
        return AuthenticateResult.Fail(failure.Code);
    }

    private async Task<(string? Token, ConnectAuthFailure? Failure)> ExtractTokenAsync()
    {
        string? fromQuery = Request.Query.TryGetValue("jwt", out var q) ? q.ToString() : null;
        string? fromForm = null;
        if (HttpMethods.IsPost(Request.Method) && Request.HasFormContentType)
        {
            try
            {
                var form = await Request.ReadFormAsync(Context.RequestAborted);
                fromForm = form.TryGetValue("jwt", out var f) ? f.ToString() : null;
            }
            catch (InvalidDataException)
            {
                return (null, new("jwt.malformed_request", "The form body could not be read.", 400));
            }
        }

        if (fromQuery is not null && fromForm is not null)
        {
            return (null, new("jwt.ambiguous", "A token was sent both in the query and in the form body."));
        }

        if (fromQuery is not null || fromForm is not null)
        {
            return (fromQuery ?? fromForm, null);
        }

        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("JWT ", StringComparison.OrdinalIgnoreCase))
        {
            return (header[4..].Trim(), null);
        }

        return (null, null);
    }

    private static string? AccountId(JsonWebToken jwt)
    {
        if (jwt.TryGetPayloadValue<JsonElement>("context", out var context)
            && context.ValueKind == JsonValueKind.Object
            && context.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.Object
            && user.TryGetProperty("accountId", out var id) && id.ValueKind == JsonValueKind.String
            && !string.IsNullOrEmpty(id.GetString()))
        {
            return id.GetString();
        }

        return jwt.TryGetPayloadValue<string>("sub", out var sub) && !string.IsNullOrEmpty(sub) ? sub : null;
    }

    /// <summary>The token's <c>context.jira.project.id</c> (the project of the page the user is on), when it names one.</summary>
    private static string? ProjectId(JsonWebToken jwt)
    {
        if (jwt.TryGetPayloadValue<JsonElement>("context", out var context)
            && context.ValueKind == JsonValueKind.Object
            && context.TryGetProperty("jira", out var jira) && jira.ValueKind == JsonValueKind.Object
            && jira.TryGetProperty("project", out var project) && project.ValueKind == JsonValueKind.Object
            && project.TryGetProperty("id", out var id))
        {
            var text = id.ValueKind switch
            {
                JsonValueKind.String => id.GetString(),
                JsonValueKind.Number => id.GetRawText(),
                _ => null,
            };
            return text is { Length: > 0 and <= 20 } && text.All(char.IsAsciiDigit) ? text : null;
        }

        return null;
    }

    internal static bool FixedTimeEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));
}
