using Microsoft.Extensions.Options;

namespace ConnectApp.Licensing;

/// <summary>
/// <c>LICENSING</c>: <c>enforce</c> for the paid Marketplace listing (the descriptor sets <c>enableLicensing</c>, and an
/// unlicensed site may read but not change anything), <c>off</c> (the default) for local runs and evaluation.
/// </summary>
internal sealed class LicensingOptions
{
    public string? Mode { get; set; }

    public bool Enforced => string.Equals(Mode, "enforce", StringComparison.OrdinalIgnoreCase);
}

internal sealed class LicensingOptionsValidator : IValidateOptions<LicensingOptions>
{
    public ValidateOptionsResult Validate(string? name, LicensingOptions options) =>
        options.Mode is null or "" || string.Equals(options.Mode, "enforce", StringComparison.OrdinalIgnoreCase) || string.Equals(options.Mode, "off", StringComparison.OrdinalIgnoreCase)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"LICENSING must be 'enforce' or 'off', not '{options.Mode}'.");
}
