namespace AtlassianConnect;

/// <summary>Where an installation stands in its lifecycle.</summary>
public enum ConnectTenantState
{
    /// <summary>Installed and enabled: requests are accepted.</summary>
    Enabled,

    /// <summary>Installed but disabled by an admin: only lifecycle callbacks are accepted.</summary>
    Disabled,

    /// <summary>Uninstalled: nothing is accepted.</summary>
    Uninstalled,
}

/// <summary>What the library needs to know of an installation to verify and sign its requests.</summary>
/// <param name="TenantId">The app's own id for the installation.</param>
/// <param name="ClientKey">Jira's id for the installation (<c>iss</c> of its tokens).</param>
/// <param name="SharedSecret">The HS256 secret, decrypted.</param>
/// <param name="BaseUrl">The product's base URL, for outgoing calls.</param>
/// <param name="State">Whether requests of this installation are accepted.</param>
public sealed record ConnectTenant(Guid TenantId, string ClientKey, string SharedSecret, Uri BaseUrl, ConnectTenantState State)
{
    /// <inheritdoc />
    public override string ToString() => $"ConnectTenant {{ ClientKey = {ClientKey}, State = {State} }}";
}

/// <summary>Finds installations by clientKey. The app implements it over its own store.</summary>
public interface IConnectTenantStore
{
    /// <summary>
    /// Finds the installation for <paramref name="clientKey"/>, or null. With <paramref name="refresh"/>
    /// a cached entry must be bypassed (called once after a signature failure, so a rotated secret works at once).
    /// </summary>
    ValueTask<ConnectTenant?> FindAsync(string clientKey, bool refresh, CancellationToken cancellationToken);
}
