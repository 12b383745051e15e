using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace ConnectApp.ApiTokens;

/// <summary>
/// The token a client sends: <c>cat_&lt;tenantId&gt;_&lt;tokenId&gt;_&lt;secret&gt;</c>, ids as 32 hex characters, the
/// secret 32 random bytes as 43 base64url characters. The tenant id only says where to look (row-level security
/// needs a tenant before the row can be read); it is trusted only after the secret verified against that tenant's row.
/// </summary>
internal readonly record struct ApiTokenValue(Guid TenantId, Guid TokenId, byte[] SecretHash)
{
    public const string Prefix = "cat_";
    public const int SecretBytes = 32;
    public const int SecretLength = 43; // base64url of 32 bytes, unpadded
    public const int Length = 4 + 32 + 1 + 32 + 1 + SecretLength;

    /// <summary>A new token value for a token row, and the hash to store in that row.</summary>
    public static (string Value, byte[] SecretHash) Create(Guid tenantId, Guid tokenId)
    {
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        return ($"{Prefix}{tenantId:N}_{tokenId:N}_{secret}", Hash(secret));
    }

    /// <summary>Splits a presented token; false for anything not of the exact shape, without saying why (nothing to learn from it).</summary>
    public static bool TryParse(ReadOnlySpan<char> value, out ApiTokenValue parsed)
    {
        parsed = default;
        if (value.Length != Length || !value.StartsWith(Prefix, StringComparison.Ordinal) || value[36] != '_' || value[69] != '_')
        {
            return false;
        }

        var secret = value[70..];
        if (!IsLowerHex(value[4..36]) || !IsLowerHex(value[37..69]) || !IsBase64Url(secret)
            || !Guid.TryParseExact(value[4..36], "N", out var tenantId) || !Guid.TryParseExact(value[37..69], "N", out var tokenId))
        {
            return false;
        }

        parsed = new ApiTokenValue(tenantId, tokenId, Hash(secret));
        return true;
    }

    /// <summary>
    /// SHA-256 of the secret's characters. The characters, not the decoded bytes: 43 base64url characters carry two
    /// spare bits, so hashing decoded bytes would accept four spellings of the same secret.
    /// </summary>
    public static byte[] Hash(ReadOnlySpan<char> secret)
    {
        Span<byte> ascii = stackalloc byte[SecretLength];
        var written = Encoding.ASCII.GetBytes(secret, ascii);
        return SHA256.HashData(ascii[..written]);
    }

    private static bool IsLowerHex(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsBase64Url(ReadOnlySpan<char> s)
    {
        foreach (var c in s)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
