using System.Globalization;
using Microsoft.Extensions.Options;

namespace ConnectApp.Retention;

/// <summary>
/// <c>RETENTION_DAYS</c> (default 90): how long an uninstalled tenant's data are kept. <c>INACTIVITY_DAYS</c> (unset:
/// never): purge a tenant that has neither a lifecycle callback nor an authenticated request for that long.
/// </summary>
internal sealed class RetentionOptions
{
    public const int DefaultRetentionDays = 90;

    /// <summary>The raw values, so a malformed one is reported rather than silently replaced by the default.</summary>
    public string? RetentionDaysText { get; set; }

    public string? InactivityDaysText { get; set; }

    public int RetentionDays => RetentionDaysText is { Length: > 0 } t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : DefaultRetentionDays;

    public int? InactivityDays => InactivityDaysText is { Length: > 0 } t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d : null;

    public TimeSpan Retention => TimeSpan.FromDays(RetentionDays);

    public TimeSpan? Inactivity => InactivityDays is { } d ? TimeSpan.FromDays(d) : null;

    /// <summary>Rows deleted per statement (and transaction): short locks, so other tenants keep their latency.</summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>How long the scheduler sleeps when nothing is due (Quartz's idle wait; tests shorten it to follow a fake clock quickly).</summary>
    public TimeSpan SchedulerIdleWait { get; set; } = TimeSpan.FromSeconds(30);
}

internal sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        var failures = new List<string>();
        if (options.RetentionDaysText is { Length: > 0 } r && !(int.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days is >= 1 and <= 3650))
        {
            failures.Add("RETENTION_DAYS must be a whole number of days from 1 to 3650.");
        }

        if (options.InactivityDaysText is { Length: > 0 } i && !(int.TryParse(i, NumberStyles.None, CultureInfo.InvariantCulture, out var inactive) && inactive is >= 1 and <= 36500))
        {
            failures.Add("INACTIVITY_DAYS must be a whole number of days from 1 to 36500 (or unset: never).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
