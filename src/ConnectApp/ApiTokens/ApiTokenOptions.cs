using System.Globalization;
using Microsoft.Extensions.Options;

namespace ConnectApp.ApiTokens;

/// <summary>API token settings: <c>API_TOKEN_RATE_LIMIT</c>, requests per second per tenant over all its tokens.</summary>
internal sealed class ApiTokenOptions
{
    public const int DefaultRequestsPerSecond = 100;
    public const int MaxRequestsPerSecond = 100_000;

    /// <summary>The raw setting, kept so the validator can name a malformed value instead of silently using the default.</summary>
    public string? RateLimit { get; set; }

    public int RequestsPerSecond => Parse(RateLimit) ?? DefaultRequestsPerSecond;

    internal static int? Parse(string? raw) =>
        string.IsNullOrEmpty(raw) ? DefaultRequestsPerSecond
        : int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxRequestsPerSecond ? n
        : null;
}

internal sealed class ApiTokenOptionsValidator : IValidateOptions<ApiTokenOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiTokenOptions options) =>
        ApiTokenOptions.Parse(options.RateLimit) is null
            ? ValidateOptionsResult.Fail($"API_TOKEN_RATE_LIMIT is malformed: expected requests per second per tenant, a whole number from 1 to {ApiTokenOptions.MaxRequestsPerSecond}.")
            : ValidateOptionsResult.Success;
}
