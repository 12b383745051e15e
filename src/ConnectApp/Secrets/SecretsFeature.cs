using ConnectApp.Api;
using ConnectApp.Hosting;
using ConnectApp.Problems;

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
        // A site whose stored secret no configured key opens (a key removed before `rotate-secrets` finished) gets a
        // coded 503 on every call, and operators get the key id in the log; never a 500, never a wrong 401.
        services.AddSingleton(new ExceptionProblemMapping(SecretsProblems.FromException));
        services.AddProblemConvention((_, route) => AppRoutes.IsApiOrLifecycle(route), SecretsProblems.Unreadable);
        return services;
    }
}

/// <summary>Problems of secrets at rest.</summary>
internal static class SecretsProblems
{
    public static readonly ProblemType Unreadable = new(503, "secrets.unreadable");

    public static AppProblem? FromException(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is UnreadableSecretException)
            {
                return new AppProblem(Unreadable, "The app cannot read this site's stored credentials; its operators have been told. Try again later.", inner: exception);
            }
        }

        return null;
    }
}
