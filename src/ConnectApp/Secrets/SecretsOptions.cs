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
            return ValidateOptionsResult.Fail("SECRETS_KEY is not set: it must be base64 of 32 random bytes (openssl rand -base64 32).");
        }

        if (SecretProtector.DecodeKey(options.Key) is null)
        {
            return ValidateOptionsResult.Fail("SECRETS_KEY is malformed: it must be base64 of exactly 32 bytes (openssl rand -base64 32).");
        }

        if (!string.IsNullOrEmpty(options.PreviousKey) && SecretProtector.DecodeKey(options.PreviousKey) is null)
        {
            return ValidateOptionsResult.Fail("SECRETS_KEY_PREVIOUS is malformed: it must be base64 of exactly 32 bytes.");
        }

        return ValidateOptionsResult.Success;
    }
}
