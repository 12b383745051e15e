using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AtlassianConnect;

/// <summary>Creates Connect JWTs: HS256 with a shared secret, as Jira and Connect apps sign requests.</summary>
public static class ConnectJwt
{
    private static readonly JsonWebTokenHandler Handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Signs <paramref name="claims"/> with HS256 under <paramref name="sharedSecret"/>.</summary>
    public static string CreateSymmetric(IDictionary<string, object> claims, string sharedSecret)
    {
        ArgumentNullException.ThrowIfNull(claims);
        ArgumentException.ThrowIfNullOrEmpty(sharedSecret);
        var credentials = new SigningCredentials(SymmetricKey(sharedSecret), SecurityAlgorithms.HmacSha256);
        return Handler.CreateToken(JsonSerializer.Serialize(claims), credentials);
    }

    /// <summary>The claims of a request-bound token from <paramref name="issuer"/>, valid for <paramref name="lifetime"/>.</summary>
    public static Dictionary<string, object> RequestClaims(string issuer, string qsh, DateTimeOffset now, TimeSpan lifetime, string? subject = null)
    {
        var claims = new Dictionary<string, object>
        {
            ["iss"] = issuer,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = now.Add(lifetime).ToUnixTimeSeconds(),
            ["qsh"] = qsh,
        };
        if (subject is not null)
        {
            claims["sub"] = subject;
        }

        return claims;
    }

    internal static SymmetricSecurityKey SymmetricKey(string sharedSecret) => new(Encoding.UTF8.GetBytes(sharedSecret));
}
