using System.Text.Json;

namespace AtlassianConnect.Forge;

/// <summary>
/// A verified Forge Invocation Token and the OAuth tokens that came with it: who called, from which installation and
/// module, and how to call the product back. Set as a request feature by <see cref="ForgeInvocationTokenHandler"/>.
/// </summary>
/// <param name="InstallationId">The Forge installation (<c>app.installationId</c>).</param>
/// <param name="ApiBaseUrl">Where product calls go (<c>app.apiBaseUrl</c>, e.g. https://api.atlassian.com/ex/jira/{cloudId}).</param>
/// <param name="AccountId">The user the call is made for (<c>principal</c>); null for events and scheduled triggers.</param>
/// <param name="ModuleType">The calling module's type (<c>app.module.type</c>).</param>
/// <param name="ModuleKey">The calling module's key (<c>app.module.key</c>).</param>
/// <param name="Environment">The app environment (<c>app.environment.type</c>: DEVELOPMENT, STAGING, PRODUCTION).</param>
/// <param name="LicenseActive">The installation's license (<c>app.license.isActive</c>), when the token says.</param>
/// <param name="Context">The product context (<c>context</c>), as sent.</param>
/// <param name="AppSystemToken">Bearer token to call the product as the app (<c>x-forge-oauth-system</c>), if sent.</param>
/// <param name="AppUserToken">Bearer token to call the product as the user (<c>x-forge-oauth-user</c>), if sent.</param>
public sealed record ForgeInvocation(
    string InstallationId, Uri ApiBaseUrl, string? AccountId, string? ModuleType, string? ModuleKey, string? Environment, bool? LicenseActive,
    JsonElement? Context, string? AppSystemToken, string? AppUserToken)
{
    /// <inheritdoc />
    public override string ToString() => $"ForgeInvocation {{ InstallationId = {InstallationId}, ModuleKey = {ModuleKey} }}"; // never the tokens
}

/// <summary>Finds the Connect installation a Forge installation belongs to. The app implements it over its own store.</summary>
public interface IForgeInstallationStore
{
    /// <summary>
    /// The installation whose lifecycle payload carried <paramref name="installationId"/>, or null when none (or more
    /// than one) did.
    /// </summary>
    ValueTask<ConnectTenant?> FindByInstallationAsync(string installationId, CancellationToken cancellationToken);
}
