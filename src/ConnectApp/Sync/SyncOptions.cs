using System.Globalization;
using Microsoft.Extensions.Options;

namespace ConnectApp.Sync;

/// <summary>
/// <c>SYNC_INTERVAL_MINUTES</c> (default 360; 0: no scheduled sync): how often each installed site's JSM directory is
/// synced again on the schedule (the incremental sync: a resync that writes only what differs).
/// </summary>
internal sealed class SyncOptions
{
    public const int DefaultIntervalMinutes = 360;

    public const int MaxIntervalMinutes = 7 * 24 * 60;

    /// <summary>The raw value, so a malformed one is reported rather than silently replaced by the default.</summary>
    public string? IntervalMinutesText { get; set; }

    public int IntervalMinutes => IntervalMinutesText is { Length: > 0 } t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : DefaultIntervalMinutes;

    /// <summary>Null: scheduled syncs are off.</summary>
    public TimeSpan? Interval => IntervalMinutes > 0 ? TimeSpan.FromMinutes(IntervalMinutes) : null;
}

internal sealed class SyncOptionsValidator : IValidateOptions<SyncOptions>
{
    public ValidateOptionsResult Validate(string? name, SyncOptions options) =>
        options.IntervalMinutesText is { Length: > 0 } text && !(int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var minutes) && minutes <= SyncOptions.MaxIntervalMinutes)
            ? ValidateOptionsResult.Fail($"SYNC_INTERVAL_MINUTES must be a whole number of minutes from 0 (no scheduled sync) to {SyncOptions.MaxIntervalMinutes}.")
            : ValidateOptionsResult.Success;
}
