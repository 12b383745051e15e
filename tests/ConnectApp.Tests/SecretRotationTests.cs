using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

namespace ConnectApp.Tests;

/// <summary>
/// Key rotation as an operator runs it (README): every process gets the new SECRETS_KEY with the old one as
/// SECRETS_KEY_PREVIOUS, the <c>rotate-secrets</c> command re-encrypts, and the old key is removed. Runs on a
/// database of its own, since it rotates every tenant in it.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class SecretRotationTests(ConnectAppFixture app)
{
    [Fact]
    public async Task RotateSecrets_ThenRemovePreviousKey_EveryTenantStillAuthenticates()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.MigrateAsync();
        var oldKey = app.SecretsKey;
        var newKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        TestLog.RecordSecret(newKey);

        var sites = new List<SimulatedSite>();
        await using (var before = new ConnectAppFactory(app, database.Url, new Dictionary<string, string> { ["SECRETS_KEY"] = oldKey }))
        {
            for (var i = 0; i < ConnectApp.Tenants.SecretRotation.BatchSize + 1; i++) // more than one batch of the rotation
            {
                sites.Add(await InstallAsync(before));
            }

            Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(before, sites[^1]));
        }

        var ciphertextsBefore = await CiphertextsAsync(database);
        var environment = new Dictionary<string, string>
        {
            ["DATABASE_URL"] = database.Url,
            ["RABBITMQ_URL"] = app.Broker.Url,
            ["SECRETS_KEY"] = newKey,
            ["SECRETS_KEY_PREVIOUS"] = oldKey,
        };
        var (exit, output) = await WorkerProcess.RunCommandAsync("rotate-secrets", environment);
        Assert.True(exit == 0, output);
        Assert.Contains($"{sites.Count} re-encrypted", output, StringComparison.Ordinal);
        Assert.DoesNotContain(newKey, output, StringComparison.Ordinal);
        Assert.DoesNotContain(oldKey, output, StringComparison.Ordinal);

        var ciphertextsAfter = await CiphertextsAsync(database);
        Assert.Single(ciphertextsAfter.Select(c => c.KeyId).Distinct()); // one key id for all: the new key's
        Assert.All(ciphertextsAfter, c => Assert.NotEqual(ciphertextsBefore.Single(b => b.ClientKey == c.ClientKey).KeyId, c.KeyId));

        // Run again (a resumed or repeated rotation): nothing left to do, nothing changes.
        var (again, againOutput) = await WorkerProcess.RunCommandAsync("rotate-secrets", environment);
        Assert.True(again == 0, againOutput);
        Assert.Contains("done, 0 re-encrypted", againOutput, StringComparison.Ordinal);
        Assert.Equal(ciphertextsAfter, await CiphertextsAsync(database));

        // The previous key removed: every tenant authenticates under the new key alone, and a reinstall works.
        await using (var after = new ConnectAppFactory(app, database.Url, new Dictionary<string, string> { ["SECRETS_KEY"] = newKey }))
        {
            foreach (var site in sites)
            {
                Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(after, site));
            }

            using var reinstall = await app.Installer.InstallAsync(after.CreateClient(), sites[0]);
            Assert.Equal(HttpStatusCode.NoContent, reinstall.StatusCode);
            TestLog.RecordSecret(sites[0].SharedSecret!);
            Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(after, sites[0]));
        }

        // An app that only knows the old key can no longer read them (the rotation really changed the key), and
        // says so with a coded 503, not a 500.
        await using (var stale = new ConnectAppFactory(app, database.Url, new Dictionary<string, string> { ["SECRETS_KEY"] = oldKey }))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, await WhoAmIAsync(stale, sites[1])); // secrets.unreadable: an operator error, not the caller's
        }
    }

    [Fact]
    public async Task RotateSecrets_WithoutThePreviousKey_ChangesNothing_AndSaysWhichKeyIsMissing()
    {
        await using var database = await TestDatabase.CreateAsync();
        await database.MigrateAsync();
        SimulatedSite site;
        await using (var before = new ConnectAppFactory(app, database.Url))
        {
            site = await InstallAsync(before);
        }

        var ciphertexts = await CiphertextsAsync(database);
        var newKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        TestLog.RecordSecret(newKey);
        var (exit, output) = await WorkerProcess.RunCommandAsync("rotate-secrets", new Dictionary<string, string>
        {
            ["DATABASE_URL"] = database.Url,
            ["RABBITMQ_URL"] = app.Broker.Url,
            ["SECRETS_KEY"] = newKey,
        });
        Assert.Equal(1, exit);
        Assert.Contains(ciphertexts.Single().KeyId, output, StringComparison.Ordinal);
        Assert.Contains("SECRETS_KEY_PREVIOUS", output, StringComparison.Ordinal);
        Assert.Equal(ciphertexts, await CiphertextsAsync(database));
        await using var unchanged = new ConnectAppFactory(app, database.Url);
        Assert.Equal(HttpStatusCode.OK, await WhoAmIAsync(unchanged, site));
    }

    private async Task<SimulatedSite> InstallAsync(ConnectAppFactory factory)
    {
        var site = await app.InstallSiteThroughAsync(factory.CreateClient());
        site.AddUser("557058:rotation-agent", SiteRole.Agent);
        return site;
    }

    private static async Task<HttpStatusCode> WhoAmIAsync(WebApplicationFactory<Program> factory, SimulatedSite site)
    {
        using var client = factory.CreateClient();
        var token = SiteTokens.Context(site, "557058:rotation-agent");
        TestLog.RecordSecret(token);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("JWT", token);
        using var response = await client.GetAsync("api/whoami");
        return response.StatusCode;
    }

    private static async Task<List<(string ClientKey, string KeyId, string Ciphertext)>> CiphertextsAsync(TestDatabase database)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT client_key, shared_secret_key_id, encode(shared_secret_ciphertext, 'base64') FROM tenants ORDER BY client_key", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }
}
