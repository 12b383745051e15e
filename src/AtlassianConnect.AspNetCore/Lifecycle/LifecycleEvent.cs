using System.Text.Json.Serialization;

namespace AtlassianConnect.Lifecycle;

/// <summary>The JSON body of a lifecycle callback (<c>installed</c>, <c>uninstalled</c>, <c>enabled</c>, <c>disabled</c>).</summary>
public sealed record LifecycleEvent
{
    /// <summary>The app key.</summary>
    [JsonPropertyName("key")] public string? Key { get; init; }

    /// <summary>The installation's id; the tenant key.</summary>
    [JsonPropertyName("clientKey")] public string? ClientKey { get; init; }

    /// <summary>HS256 secret; only on <c>installed</c>.</summary>
    [JsonPropertyName("sharedSecret")] public string? SharedSecret { get; init; }

    /// <summary>The product's base URL: every API call goes there.</summary>
    [JsonPropertyName("baseUrl")] public string? BaseUrl { get; init; }

    /// <summary>Custom-domain prefix for links shown to users.</summary>
    [JsonPropertyName("displayUrl")] public string? DisplayUrl { get; init; }

    /// <summary>Custom domain of the JSM help center.</summary>
    [JsonPropertyName("displayUrlServicedeskHelpCenter")] public string? DisplayUrlServicedeskHelpCenter { get; init; }

    /// <summary>"jira".</summary>
    [JsonPropertyName("productType")] public string? ProductType { get; init; }

    /// <summary>Site description.</summary>
    [JsonPropertyName("description")] public string? Description { get; init; }

    /// <summary>installed, uninstalled, enabled or disabled.</summary>
    [JsonPropertyName("eventType")] public string? EventType { get; init; }

    /// <summary>Product build.</summary>
    [JsonPropertyName("serverVersion")] public string? ServerVersion { get; init; }

    /// <summary>Connect plugin version.</summary>
    [JsonPropertyName("pluginsVersion")] public string? PluginsVersion { get; init; }

    /// <summary>OAuth client id for user impersonation.</summary>
    [JsonPropertyName("oauthClientId")] public string? OauthClientId { get; init; }

    /// <summary>Forge installation id, when the app is registered on Forge.</summary>
    [JsonPropertyName("installationId")] public string? InstallationId { get; init; }

    /// <summary>Marketplace entitlement id (paid apps).</summary>
    [JsonPropertyName("entitlementId")] public string? EntitlementId { get; init; }

    /// <summary>Marketplace entitlement number (paid apps).</summary>
    [JsonPropertyName("entitlementNumber")] public string? EntitlementNumber { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"LifecycleEvent {{ EventType = {EventType}, ClientKey = {ClientKey}, BaseUrl = {BaseUrl} }}";
}

/// <summary>What the app does when a lifecycle callback has been verified.</summary>
public interface IConnectLifecycleHandler
{
    /// <summary>A verified <c>installed</c>: upsert the installation, replacing everything but the clientKey.</summary>
    Task InstalledAsync(LifecycleEvent payload, CancellationToken cancellationToken);

    /// <summary>A verified <c>uninstalled</c>.</summary>
    Task UninstalledAsync(LifecycleEvent payload, CancellationToken cancellationToken);

    /// <summary>A verified <c>enabled</c>.</summary>
    Task EnabledAsync(LifecycleEvent payload, CancellationToken cancellationToken);

    /// <summary>A verified <c>disabled</c>.</summary>
    Task DisabledAsync(LifecycleEvent payload, CancellationToken cancellationToken);
}
