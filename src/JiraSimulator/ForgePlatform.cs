using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JiraSimulator;

/// <summary>
/// Plays Forge for Forge Remote: an RSA key published as a JWKS (like forge.cdn.prod.atlassian-dev.net), and Forge
/// Invocation Tokens minted for a site's installation of the app, as Forge sends them to a remote.
/// </summary>
public sealed class ForgePlatform : IDisposable
{
    /// <summary>The app id tests and the local run configure (FORGE_APP_ID).</summary>
    public const string DefaultAppId = "6f2c1a0e-5b7d-4c1e-9a3f-1d2e3f4a5b6c";

    private readonly RSA _key = RSA.Create(2048);
    private int _jwksFetches;

    public string Kid { get; } = "forge-sim-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>How often the JWKS was read (the app caches it, and refreshes at most once a minute on an unknown kid).</summary>
    public int JwksFetches => _jwksFetches;

    public string Jwks()
    {
        Interlocked.Increment(ref _jwksFetches);
        var p = _key.ExportParameters(false);
        return JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = "RSA", use = "sig", alg = "RS256", kid = Kid, n = Base64UrlEncoder.Encode(p.Modulus), e = Base64UrlEncoder.Encode(p.Exponent) } },
        });
    }

    /// <summary>The RSA public key's bytes, for tests that try to misuse it as an HMAC secret.</summary>
    public byte[] PublicKeyBytes() => _key.ExportSubjectPublicKeyInfo();

    /// <summary>What an invocation token says; each member can be bent for attack tests.</summary>
    public sealed record Invocation(SimulatedSite Site, string? AccountId)
    {
        public string AppId { get; init; } = DefaultAppId;

        public string Issuer { get; init; } = "forge/invocation-token";

        public DateTimeOffset? IssuedAt { get; init; }

        public TimeSpan Lifetime { get; init; } = TimeSpan.FromMinutes(1);

        public DateTimeOffset? NotBefore { get; init; }

        public string? Kid { get; init; }

        public string? InstallationId { get; init; }

        public string ModuleKey { get; init; } = "connectapp-issue-panel";
    }

    /// <summary>A Forge Invocation Token (RS256, signed with the JWKS key unless <see cref="Invocation.Kid"/> says otherwise).</summary>
    public string Mint(Invocation invocation, TimeProvider? time = null)
    {
        var now = invocation.IssuedAt ?? (time ?? TimeProvider.System).GetUtcNow();
        var claims = new Dictionary<string, object>
        {
            ["iss"] = invocation.Issuer,
            ["aud"] = "ari:cloud:ecosystem::app/" + invocation.AppId,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["nbf"] = (invocation.NotBefore ?? now).ToUnixTimeSeconds(),
            ["exp"] = (now + invocation.Lifetime).ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString(),
            ["app"] = new Dictionary<string, object>
            {
                ["installationId"] = invocation.InstallationId ?? invocation.Site.InstallationId,
                ["apiBaseUrl"] = invocation.Site.ApiBaseUrl.ToString(),
                ["id"] = "ari:cloud:ecosystem::app/" + invocation.AppId,
                ["appVersion"] = "2.0.0",
                ["environment"] = new Dictionary<string, object> { ["type"] = "PRODUCTION", ["id"] = Guid.NewGuid().ToString() },
                ["module"] = new Dictionary<string, object> { ["type"] = "xen:macro", ["key"] = invocation.ModuleKey },
                ["license"] = new Dictionary<string, object> { ["isActive"] = true },
            },
            ["context"] = new Dictionary<string, object> { ["cloudId"] = invocation.Site.CloudId.ToString(), ["localId"] = Guid.NewGuid().ToString() },
        };
        if (invocation.AccountId is not null)
        {
            claims["principal"] = invocation.AccountId;
        }

        var descriptor = new SecurityTokenDescriptor
        {
            Claims = claims,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(_key) { KeyId = invocation.Kid ?? Kid }, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public void Dispose() => _key.Dispose();
}
