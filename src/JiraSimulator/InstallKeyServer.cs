using System.Security.Cryptography;

namespace JiraSimulator;

/// <summary>
/// Plays Atlassian's connect-install-keys server: RSA key pairs by kid, public halves served as PEM.
/// The private halves sign the simulator's install and uninstall callbacks.
/// </summary>
public sealed class InstallKeyServer : IDisposable
{
    private readonly Dictionary<string, RSA> _keys = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public InstallKeyServer() => CurrentKid = Rotate();

    /// <summary>The kid new callbacks are signed with.</summary>
    public string CurrentKid { get; private set; }

    /// <summary>Creates a new key pair, makes it current and returns its kid.</summary>
    public string Rotate()
    {
        var kid = "simulator/" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        lock (_lock)
        {
            _keys[kid] = RSA.Create(2048);
            CurrentKid = kid;
        }

        return kid;
    }

    public RSA PrivateKey(string kid)
    {
        lock (_lock)
        {
            return _keys[kid];
        }
    }

    public string? PublicPem(string kid)
    {
        lock (_lock)
        {
            return _keys.TryGetValue(kid, out var rsa) ? rsa.ExportSubjectPublicKeyInfoPem() : null;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var key in _keys.Values)
            {
                key.Dispose();
            }

            _keys.Clear();
        }
    }
}
