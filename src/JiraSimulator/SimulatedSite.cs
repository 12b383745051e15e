using System.Security.Cryptography;

namespace JiraSimulator;

/// <summary>A simulated Jira Cloud site: its clientKey, its baseUrl and, once installed, the shared secret it signs with.</summary>
public sealed class SimulatedSite
{
    public SimulatedSite(string name, Uri baseUrl, string? clientKey = null)
    {
        Name = name;
        BaseUrl = baseUrl;
        ClientKey = clientKey ?? Guid.NewGuid().ToString();
    }

    public string Name { get; }

    public string ClientKey { get; }

    public Uri BaseUrl { get; set; }

    /// <summary>The secret of the latest install; null before the first.</summary>
    public string? SharedSecret { get; set; }

    /// <summary>The app key this site installed.</summary>
    public string? AppKey { get; internal set; }

    /// <summary>A new shared secret, as Jira makes one per install: 64 random bytes, base64url.</summary>
    public static string NewSharedSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)).Replace('+', '-').Replace('/', '_');

    public override string ToString() => $"SimulatedSite {{ Name = {Name}, ClientKey = {ClientKey} }}";
}
