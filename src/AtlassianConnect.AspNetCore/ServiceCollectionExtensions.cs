using AtlassianConnect.Authentication;
using AtlassianConnect.Forge;
using AtlassianConnect.Lifecycle;
using AtlassianConnect.Outgoing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AtlassianConnect;

/// <summary>Registration of the Connect library.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Adds Connect JWT authentication, signed-install verification and outgoing signing. The app supplies
    /// <see cref="IConnectTenantStore"/> and <see cref="IConnectLifecycleHandler"/>, and binds <see cref="ConnectOptions"/>.
    /// </summary>
    public static AuthenticationBuilder AddAtlassianConnect(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddMemoryCache();
        services.AddHttpClient<IInstallKeyProvider, InstallKeyProvider>(InstallKeyProvider.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        services.AddSingleton<SignedInstallVerifier>();
        services.TryAddSingleton<VerifiedContextTokens>();
        services.AddTransient<ConnectSigningHandler>();
        return services.AddAuthentication(ConnectJwtDefaults.AuthenticationScheme)
            .AddScheme<ConnectJwtOptions, ConnectJwtHandler>(ConnectJwtDefaults.AuthenticationScheme, _ => { });
    }

    /// <summary>
    /// Adds Forge Remote: the Forge Invocation Token scheme (<see cref="ForgeDefaults.AuthenticationScheme"/>) and its
    /// key set. The app supplies <see cref="IForgeInstallationStore"/> and binds <see cref="ForgeOptions"/>; it decides
    /// which requests the scheme sees (for example with a policy scheme that forwards bearer JWTs to it).
    /// </summary>
    public static AuthenticationBuilder AddForgeRemote(this AuthenticationBuilder authentication)
    {
        ArgumentNullException.ThrowIfNull(authentication);
        authentication.Services.TryAddSingleton(TimeProvider.System);
        authentication.Services.AddHttpClient(ForgeKeySet.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        authentication.Services.TryAddSingleton<ForgeKeySet>();
        return authentication.AddScheme<ForgeInvocationTokenOptions, ForgeInvocationTokenHandler>(ForgeDefaults.AuthenticationScheme, _ => { });
    }
}
