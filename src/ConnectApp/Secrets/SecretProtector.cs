using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ConnectApp.Secrets;

/// <summary>A stored secret cannot be decrypted with the configured keys: a configuration problem (or tampering), never the caller's.</summary>
internal sealed class UnreadableSecretException(string message, Exception? inner = null) : CryptographicException(message, inner);

/// <summary>A secret encrypted at rest, with the id of the key that encrypted it.</summary>
internal sealed record EncryptedSecret(byte[] Ciphertext, string KeyId);

/// <summary>
/// AES-256-GCM for secrets at rest (tenants' shared secrets; API tokens are stored as hashes, ADR 5). Each value gets a fresh random
/// 96-bit nonce; the blob is nonce | tag | ciphertext. The associated data binds a ciphertext to its row
/// (the tenant's clientKey), so a value copied into another row does not decrypt. The key id (a hash prefix of
/// the key, never the key) says which key to use, so SECRETS_KEY can rotate with SECRETS_KEY_PREVIOUS.
/// </summary>
internal sealed class SecretProtector
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _current;
    private readonly string _currentId;
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);

    private readonly ILogger<SecretProtector> _logger;

    public SecretProtector(IOptions<SecretsOptions> options, ILogger<SecretProtector> logger)
    {
        _logger = logger;
        _current = DecodeKey(options.Value.Key) ?? throw new InvalidOperationException("SECRETS_KEY is not a valid key.");
        _currentId = KeyId(_current);
        _keys[_currentId] = _current;
        if (DecodeKey(options.Value.PreviousKey) is { } previous)
        {
            _keys.TryAdd(KeyId(previous), previous);
        }
    }

    public string CurrentKeyId => _currentId;

    public EncryptedSecret Protect(string plaintext, string associatedData)
    {
        var data = Encoding.UTF8.GetBytes(plaintext);
        var blob = new byte[NonceSize + TagSize + data.Length];
        var nonce = blob.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_current, TagSize);
        aes.Encrypt(nonce, data, blob.AsSpan(NonceSize + TagSize), blob.AsSpan(NonceSize, TagSize), Encoding.UTF8.GetBytes(associatedData));
        return new EncryptedSecret(blob, _currentId);
    }

    /// <exception cref="UnreadableSecretException">The key is unknown, or the value was tampered with or moved.</exception>
    public string Unprotect(EncryptedSecret secret, string associatedData)
    {
        try
        {
            return Decrypt(secret, associatedData);
        }
        catch (UnreadableSecretException e)
        {
            _logger.LogError("A stored secret cannot be read: {Reason}", e.Message); // key ids only, never keys
            throw;
        }
    }

    private string Decrypt(EncryptedSecret secret, string associatedData)
    {
        if (!_keys.TryGetValue(secret.KeyId, out var key))
        {
            throw new UnreadableSecretException($"No key with id {secret.KeyId} is configured (SECRETS_KEY / SECRETS_KEY_PREVIOUS).");
        }

        if (secret.Ciphertext.Length < NonceSize + TagSize)
        {
            throw new UnreadableSecretException("The encrypted value is truncated.");
        }

        var blob = secret.Ciphertext.AsSpan();
        var plaintext = new byte[blob.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        try
        {
            aes.Decrypt(blob[..NonceSize], blob[(NonceSize + TagSize)..], blob.Slice(NonceSize, TagSize), plaintext, Encoding.UTF8.GetBytes(associatedData));
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new UnreadableSecretException($"The value under key {secret.KeyId} does not authenticate (tampered with, or moved from another row).", e);
        }

        return Encoding.UTF8.GetString(plaintext);
    }

    public static byte[]? DecodeKey(string? base64)
    {
        if (string.IsNullOrWhiteSpace(base64))
        {
            return null;
        }

        var text = base64.Trim();
        if (text.Length == 64 && text.All(char.IsAsciiHexDigit))
        {
            return Convert.FromHexString(text); // Heroku's app.json "generator": "secret" makes 64 hex characters
        }

        var buffer = new byte[48];
        return Convert.TryFromBase64String(text, buffer, out var written) && written == 32 ? buffer[..32] : null;
    }

    private static string KeyId(byte[] key) =>
        Convert.ToHexStringLower(SHA256.HashData([.. "connectapp-secrets-key-id:"u8, .. key]))[..16];
}
