using AtlassianConnect.Authentication;
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
        services.AddTransient<ConnectSigningHandler>();
        return services.AddAuthentication(ConnectJwtDefaults.AuthenticationScheme)
            .AddScheme<ConnectJwtOptions, ConnectJwtHandler>(ConnectJwtDefaults.AuthenticationScheme, _ => { });
    }
}
