using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AtlassianConnect;

/// <summary>
/// HS256 for Connect tokens, signed and verified here rather than by IdentityModel: IdentityModel refuses HMAC keys
/// shorter than 256 bits (IDX10720), but the shared secret is Jira's choice and an app must work with whatever it
/// sends. Parsing and the other claims still go through Microsoft.IdentityModel.JsonWebTokens.
/// </summary>
public static class ConnectJwt
{
    private static readonly byte[] Header = Encoding.UTF8.GetBytes(Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8));

    /// <summary>Signs <paramref name="claims"/> with HS256 under <paramref name="sharedSecret"/>.</summary>
    public static string CreateSymmetric(IDictionary<string, object> claims, string sharedSecret)
    {
        ArgumentNullException.ThrowIfNull(claims);
        ArgumentException.ThrowIfNullOrEmpty(sharedSecret);
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signingInput = Encoding.ASCII.GetString(Header) + "." + payload;
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(sharedSecret), Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>Whether <paramref name="encodedSignature"/> is the HS256 of <paramref name="signingInput"/> (header.payload) under <paramref name="sharedSecret"/>; constant time.</summary>
    public static bool HasValidSignature(string signingInput, string encodedSignature, string sharedSecret)
    {
        ArgumentNullException.ThrowIfNull(signingInput);
        ArgumentNullException.ThrowIfNull(encodedSignature);
        ArgumentNullException.ThrowIfNull(sharedSecret);
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(sharedSecret), Encoding.ASCII.GetBytes(signingInput), expected);
        Span<byte> actual = stackalloc byte[HMACSHA256.HashSizeInBytes + 3];
        return Base64Url.IsValid(encodedSignature, out var length) && length == HMACSHA256.HashSizeInBytes
            && Base64Url.TryDecodeFromChars(encodedSignature, actual, out var written) && written == HMACSHA256.HashSizeInBytes
            && CryptographicOperations.FixedTimeEquals(expected, actual[..written]);
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
}
