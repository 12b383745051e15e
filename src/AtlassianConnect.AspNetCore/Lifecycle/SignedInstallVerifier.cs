using System.Text.Json;
using AtlassianConnect.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AtlassianConnect.Lifecycle;

/// <summary>
/// Verifies the RS256 token that Jira puts on <c>installed</c> and <c>uninstalled</c> callbacks: key by
/// <c>kid</c> from the key server, <c>aud</c> = the app's baseUrl, <c>qsh</c> of this POST,
/// <c>iss</c> = the body's clientKey, lifetime with leeway.
/// </summary>
public sealed class SignedInstallVerifier(IInstallKeyProvider keys, IOptions<ConnectOptions> options, TimeProvider time)
{
    private static readonly JsonWebTokenHandler TokenHandler = new();

    /// <summary>Returns null when the request is a genuine callback for <paramref name="clientKey"/>, else the failure.</summary>
    public async Task<ConnectAuthFailure?> VerifyAsync(HttpContext context, string clientKey, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("JWT ", StringComparison.OrdinalIgnoreCase))
        {
            return new("install.missing_token", "Install callbacks must carry a signed token (Authorization: JWT <token>).");
        }

        var token = header[4..].Trim();
        if (token.Length > settings.MaxTokenLength)
        {
            return new("jwt.too_large", $"The token is longer than {settings.MaxTokenLength} characters.");
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException or JsonException or FormatException)
        {
            return new("jwt.malformed", "The token is not a well-formed JWT.");
        }

        if (jwt.Alg != SecurityAlgorithms.RsaSha256)
        {
            return new("install.algorithm_not_allowed", "Install callbacks must be signed with RS256.");
        }

        if (string.IsNullOrEmpty(jwt.Kid))
        {
            return new("install.missing_kid", "The install token has no kid.");
        }

        var lookup = await keys.GetAsync(jwt.Kid, cancellationToken);
        if (lookup.Unavailable)
        {
            return new("install.key_server_unavailable", "The install key server could not be reached; try again.", StatusCodes.Status503ServiceUnavailable);
        }

        if (lookup.Key is null)
        {
            return new("install.unknown_kid", "The install token's kid is not known to the key server.");
        }

        var audience = settings.BaseUrl!.ToString().TrimEnd('/');
        var parameters = new TokenValidationParameters
        {
            IssuerSigningKey = lookup.Key,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            ValidateIssuer = true,
            ValidIssuer = clientKey,
            ValidateAudience = true,
            ValidAudiences = [audience, audience + "/"],
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = settings.ClockSkew,
            LifetimeValidator = (nbf, exp, _, p) => exp is { } e && e.Add(p.ClockSkew) > time.GetUtcNow().UtcDateTime
                && (nbf is null || nbf.Value <= time.GetUtcNow().UtcDateTime.Add(p.ClockSkew)),
        };
        var result = await TokenHandler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
        {
            return result.Exception switch
            {
                SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => new("install.invalid_signature", "The install token's signature does not verify."),
                SecurityTokenInvalidAudienceException => new("install.wrong_audience", "The install token is not addressed to this app's baseUrl."),
                SecurityTokenInvalidIssuerException => new("install.wrong_issuer", "The install token's issuer is not the clientKey of the payload."),
                SecurityTokenInvalidLifetimeException or SecurityTokenExpiredException or SecurityTokenNoExpirationException => new("install.expired", "The install token has expired or has no valid lifetime."),
                _ => new("install.invalid", "The install token is not valid."),
            };
        }

        if (!jwt.TryGetPayloadValue<string>("qsh", out var qsh) || string.IsNullOrEmpty(qsh))
        {
            return new("install.missing_qsh", "The install token has no qsh claim.");
        }

        var expected = QueryStringHash.Compute(context.Request.Method, RequestTarget.Raw(context), settings.BasePath);
        return ConnectJwtHandler.FixedTimeEquals(expected, qsh)
            ? null
            : new("install.qsh_mismatch", "The install token's qsh does not match this request.");
    }
}
