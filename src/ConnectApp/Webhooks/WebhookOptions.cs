using System.Globalization;
using Microsoft.Extensions.Options;

namespace ConnectApp.Webhooks;

/// <summary><c>WEBHOOK_RETENTION_DAYS</c> (default 7): how long a delivery id is remembered, so a retry of it is recognised.</summary>
internal sealed class WebhookOptions
{
    public const int DefaultRetentionDays = 7;

    public string? RetentionDaysText { get; set; }

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDaysText is { Length: > 0 } t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : DefaultRetentionDays);
}

internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options) =>
        options.RetentionDaysText is not { Length: > 0 } t || (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var d) && d is >= 1 and <= 365)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("WEBHOOK_RETENTION_DAYS must be a whole number of days from 1 to 365.");
}
