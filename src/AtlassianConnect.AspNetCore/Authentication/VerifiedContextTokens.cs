using System.Collections.Concurrent;

namespace AtlassianConnect.Authentication;

/// <summary>
/// Context tokens whose signature <see cref="ConnectJwtHandler"/> has verified, with the claims it read and the shared
/// secret it verified them under. The app's iframe sends the same context token with every call for its lifetime (15
/// minutes), so parsing and verifying it again each time was most of the handler's cost. A remembered token is
/// believed only while its installation's secret is the same string (a reinstall's new secret means a full check);
/// expiry, the installation's state and the endpoint's rules are checked on every request. Bounded: expired entries
/// go when the map is full, and if it is still full it starts again empty.
/// </summary>
internal sealed class VerifiedContextTokens
{
    /// <summary>At most this many tokens are remembered (each a few hundred bytes).</summary>
    public const int Capacity = 4096;

    private readonly ConcurrentDictionary<string, Claims> _tokens = new(StringComparer.Ordinal);

    public Claims? Find(string token) => _tokens.TryGetValue(token, out var claims) ? claims : null;

    public void Remember(string token, Claims claims, DateTimeOffset now)
    {
        if (_tokens.Count >= Capacity)
        {
            var seconds = now.ToUnixTimeSeconds();
            foreach (var (key, value) in _tokens)
            {
                if (value.Exp is not { } exp || exp < seconds)
                {
                    _tokens.TryRemove(key, out _);
                }
            }

            if (_tokens.Count >= Capacity)
            {
                _tokens.Clear();
            }
        }

        _tokens[token] = claims;
    }

    /// <summary>What the handler reads from a token whose signature verified under <paramref name="SharedSecret"/>.</summary>
    internal sealed record Claims(string Issuer, string SharedSecret, long? Exp, long? Nbf, long? Iat, string? Qsh, string? AccountId, string? ProjectId);
}
