using Microsoft.Extensions.Options;

namespace ConnectApp.Hosting;

/// <summary>An options class that is checked at start; <see cref="ValidatedOptions.FindConfigurationError"/> resolves each once.</summary>
internal sealed record ValidatedOptionsRegistration(Type Type, Func<IServiceProvider, object> Resolve);

/// <summary>
/// One options class per feature, registered through <see cref="AddValidatedOptions{TOptions, TValidator}"/> so the
/// start-up check knows every one of them: a bad value stops the process with one clear line, whichever feature
/// added the class.
/// </summary>
internal static class ValidatedOptions
{
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, Action<TOptions> configure)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return services.AddValidatedOptions(configure);
    }

    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions>(this IServiceCollection services, Action<TOptions> configure)
        where TOptions : class
    {
        services.AddSingleton(new ValidatedOptionsRegistration(typeof(TOptions), sp => sp.GetRequiredService<IOptions<TOptions>>().Value));
        return services.AddOptions<TOptions>().Configure(configure).ValidateOnStart();
    }

    /// <summary>Resolves every validated options class once; the failures as one line, or null when all are valid.</summary>
    public static string? FindConfigurationError(IServiceProvider services)
    {
        var failures = new List<string>();
        foreach (var registration in services.GetServices<ValidatedOptionsRegistration>())
        {
            try
            {
                _ = registration.Resolve(services);
            }
            catch (OptionsValidationException e)
            {
                failures.AddRange(e.Failures.Select(f => f.Replace("DataAnnotation validation failed for ", string.Empty, StringComparison.Ordinal)));
            }
        }

        return failures.Count == 0 ? null : string.Join(" ", failures);
    }
}
