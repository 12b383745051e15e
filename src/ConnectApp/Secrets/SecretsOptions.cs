using Microsoft.Extensions.Options;

namespace ConnectApp.Secrets;

/// <summary>The keys that encrypt secrets at rest: <c>SECRETS_KEY</c>, and <c>SECRETS_KEY_PREVIOUS</c> during a rotation.</summary>
internal sealed class SecretsOptions
{
    public string? Key { get; set; }

    public string? PreviousKey { get; set; }
}

internal sealed class SecretsOptionsValidator : IValidateOptions<SecretsOptions>
{
    public ValidateOptionsResult Validate(string? name, SecretsOptions options)
    {
        if (string.IsNullOrEmpty(options.Key))
        {
            return ValidateOptionsResult.Fail("SECRETS_KEY is not set: it must be 32 random bytes as base64 (openssl rand -base64 32) or 64 hex characters.");
        }

        if (SecretProtector.DecodeKey(options.Key) is null)
        {
            return ValidateOptionsResult.Fail("SECRETS_KEY is malformed: it must be 32 bytes as base64 (openssl rand -base64 32) or 64 hex characters.");
        }

        if (!string.IsNullOrEmpty(options.PreviousKey) && SecretProtector.DecodeKey(options.PreviousKey) is null)
        {
            return ValidateOptionsResult.Fail("SECRETS_KEY_PREVIOUS is malformed: it must be 32 bytes as base64 or 64 hex characters.");
        }

        return ValidateOptionsResult.Success;
    }
}
