using System.Security.Cryptography;
using ConnectApp.Persistence;
using ConnectApp.Secrets;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Tenants;

/// <summary>
/// The <c>rotate-secrets</c> command-line role: re-encrypts every tenant's shared secret that is not under
/// <c>SECRETS_KEY</c> (normally: under <c>SECRETS_KEY_PREVIOUS</c>) with <c>SECRETS_KEY</c>. Online: every process
/// runs with both keys during the rotation, so each secret is readable before, during and after its row changes.
/// Resumable and idempotent: the key id stored with each secret says what is left, so running it again after a
/// crash (or twice) only does what remains. Rows are locked one batch at a time, so a reinstall racing with the
/// rotation waits a moment and then writes its own (current-key) secret; the rotation reads each row under the lock.
/// Web processes' tenant caches hold plaintext secrets, so they need no refresh.
/// </summary>
internal static class SecretRotation
{
    public const int BatchSize = 100;

    /// <summary>0 when no secret is left under another key; 1 when some cannot be read with the configured keys.</summary>
    public static async Task<int> RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var secrets = services.GetRequiredService<SecretProtector>();
        var current = secrets.CurrentKeyId;
        int total;
        await using (var scope = services.CreateAsyncScope())
        {
            total = await scope.ServiceProvider.GetRequiredService<AppDbContext>().Set<Tenant>().CountAsync(t => t.SharedSecretKeyId != current, cancellationToken);
        }

        Console.WriteLine($"rotate-secrets: {total} secret(s) to re-encrypt under key {current}");
        var rotated = 0;
        var unreadable = new Dictionary<string, int>(StringComparer.Ordinal);
        var last = Guid.Empty;
        while (true)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var batch = await db.Set<Tenant>()
                .FromSql($"SELECT * FROM tenants WHERE shared_secret_key_id <> {current} AND id > {last} ORDER BY id LIMIT {BatchSize} FOR UPDATE")
                .ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var tenant in batch)
            {
                string plaintext;
                try
                {
                    plaintext = secrets.Unprotect(new EncryptedSecret(tenant.SharedSecretCiphertext, tenant.SharedSecretKeyId), tenant.ClientKey);
                }
                catch (CryptographicException)
                {
                    // Left as it is: nothing is lost, and the operator is told which key id is missing.
                    unreadable[tenant.SharedSecretKeyId] = unreadable.GetValueOrDefault(tenant.SharedSecretKeyId) + 1;
                    continue;
                }

                var secret = secrets.Protect(plaintext, tenant.ClientKey);
                tenant.SharedSecretCiphertext = secret.Ciphertext;
                tenant.SharedSecretKeyId = secret.KeyId;
                rotated++;
            }

            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            last = batch[^1].Id;
            Console.WriteLine($"rotate-secrets: {rotated}/{total} re-encrypted");
        }

        if (unreadable.Count > 0)
        {
            Console.Error.WriteLine($"rotate-secrets: {unreadable.Values.Sum()} secret(s) are under a key that is neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS (key ids: {string.Join(", ", unreadable.Keys.Order(StringComparer.Ordinal))}); they were left unchanged. Set SECRETS_KEY_PREVIOUS to that key and run again.");
            return 1;
        }

        Console.WriteLine($"rotate-secrets: done, {rotated} re-encrypted; every secret is under key {current}, so SECRETS_KEY_PREVIOUS can be removed");
        return 0;
    }
}
