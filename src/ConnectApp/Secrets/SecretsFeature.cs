using ConnectApp.Hosting;

namespace ConnectApp.Secrets;

/// <summary>Secrets at rest (tenants' shared secrets): AES-256-GCM under <c>SECRETS_KEY</c>.</summary>
internal static class SecretsFeature
{
    public static IServiceCollection AddSecrets(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<SecretsOptions, SecretsOptionsValidator>(o =>
        {
            o.Key = configuration["SECRETS_KEY"];
            o.PreviousKey = configuration["SECRETS_KEY_PREVIOUS"];
        });
        services.AddSingleton<SecretProtector>();
        return services;
    }
}
