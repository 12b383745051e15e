using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace ConnectApp.Jira;

/// <summary>Calls to tenants' Jira sites, signed with the tenant's shared secret (Connect JWT).</summary>
internal static class JiraFeature
{
    /// <summary>A directory call gives up after this long in all, retries and Retry-After waits included.</summary>
    public static readonly TimeSpan DirectoryCallBudget = TimeSpan.FromMinutes(5);

    /// <summary>One attempt of a directory call.</summary>
    public static readonly TimeSpan DirectoryAttemptTimeout = TimeSpan.FromSeconds(30);

    public static IServiceCollection AddJira(this IServiceCollection services)
    {
        // Role checks sit on a user's request: no retries here, a refusal is a 503 the caller may retry.
        services.AddHttpClient<JiraClient>(JiraClient.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10))
            .AddHttpMessageHandler<AtlassianConnect.Outgoing.ConnectSigningHandler>();

        // Background reads of the JSM directory: patient. Outermost first: total timeout, retry (429/5xx/408 and
        // transport errors; Retry-After honoured, else jittered exponential back-off), per-attempt timeout, then the
        // per-site concurrency cap and the JWT signature (fresh for every attempt).
        services.AddTransient<TenantConcurrencyHandler>();
        // Redirects are not followed: a 303 is an answer (the bulk property task's Location, read by JsmClient), and a
        // followed redirect would leave the tenant's baseUrl and go unsigned.
        var directory = services.AddHttpClient<JsmClient>(JsmClient.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        directory.AddResilienceHandler("jira-directory", pipeline =>
            {
                pipeline.AddTimeout(DirectoryCallBudget);
                pipeline.AddRetry(RetryHonouringRetryAfter(10, TimeSpan.FromSeconds(30)));
                pipeline.AddTimeout(DirectoryAttemptTimeout);
            });
        directory.AddHttpMessageHandler<TenantConcurrencyHandler>()
            .AddHttpMessageHandler<AtlassianConnect.Outgoing.ConnectSigningHandler>();

        // Act-as-user grants (UserTokens): the token endpoint's 429/5xx retried with Retry-After honoured, else jittered
        // back-off; a minute in all, as a write-back waits for it.
        services.AddSingleton<UserTokens>();
        services.AddHttpClient(UserTokens.HttpClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .AddResilienceHandler("connect-oauth", pipeline =>
            {
                pipeline.AddTimeout(TokenGrantBudget);
                pipeline.AddRetry(RetryHonouringRetryAfter(5, TimeSpan.FromSeconds(15)));
                pipeline.AddTimeout(TimeSpan.FromSeconds(10));
            });
        return services;
    }

    /// <summary>429 and 5xx retried: after Retry-After when Jira sends one, else exponential back-off with jitter from 500 ms.</summary>
    private static HttpRetryStrategyOptions RetryHonouringRetryAfter(int attempts, TimeSpan maxDelay) => new()
    {
        MaxRetryAttempts = attempts,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        Delay = TimeSpan.FromMilliseconds(500),
        MaxDelay = maxDelay,
        ShouldRetryAfterHeader = true,
    };

    /// <summary>An act-as-user token grant gives up after this long in all, retries and Retry-After waits included.</summary>
    public static readonly TimeSpan TokenGrantBudget = TimeSpan.FromMinutes(1);
}
