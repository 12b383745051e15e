using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AtlassianConnect;
using AtlassianConnect.Outgoing;
using ConnectApp.Secrets;
using ConnectApp.Tests.Infrastructure;
using ConnectTesting;
using JiraSimulator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ConnectApp.Tests;

[Collection(AppCollection.Name)]
public sealed class SecurityTests(ConnectAppFixture app)
{
    [Fact]
    public async Task SharedSecret_IsNotReadableInTheDatabase()
    {
        var site = await app.InstallSiteAsync();
        var row = await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey);
        var secret = Encoding.UTF8.GetBytes(site.SharedSecret!);

        Assert.True(row!.SecretCiphertext.Length >= 12 + 16 + secret.Length); // nonce + tag + ciphertext
        Assert.Equal(-1, row.SecretCiphertext.AsSpan().IndexOf(secret));
        Assert.Equal(-1, row.SecretCiphertext.AsSpan().IndexOf(Encoding.UTF8.GetBytes(site.SharedSecret![..12])));
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var dump = new NpgsqlCommand("SELECT t::text FROM tenants t", connection);
        await using var reader = await dump.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            Assert.DoesNotContain(site.SharedSecret!, reader.GetString(0), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SameSecretInstalledTwice_GetsDifferentCiphertexts()
    {
        var protector = app.App.Services.GetRequiredService<SecretProtector>();
        var a = protector.Protect("same-secret", "client");
        var b = protector.Protect("same-secret", "client");
        Assert.NotEqual(Convert.ToHexString(a.Ciphertext), Convert.ToHexString(b.Ciphertext));
        Assert.NotEqual(Convert.ToHexString(a.Ciphertext[..12]), Convert.ToHexString(b.Ciphertext[..12])); // fresh 96-bit nonce
        Assert.Equal("same-secret", protector.Unprotect(a, "client"));
    }

    [Fact]
    public void Ciphertext_MovedToAnotherTenantOrTampered_DoesNotDecrypt()
    {
        var protector = app.App.Services.GetRequiredService<SecretProtector>();
        var sealedSecret = protector.Protect("tenant-a-secret", "tenant-a");
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(sealedSecret, "tenant-b"));
        var tampered = (byte[])sealedSecret.Ciphertext.Clone();
        tampered[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(sealedSecret with { Ciphertext = tampered }, "tenant-a"));
    }

    [Fact]
    public void KeyRotation_PreviousKeyStillDecrypts_NewValuesUseTheNewKey()
    {
        var oldKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var newKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var before = new SecretProtector(Options.Create(new SecretsOptions { Key = oldKey }), Microsoft.Extensions.Logging.Abstractions.NullLogger<SecretProtector>.Instance);
        var stored = before.Protect("rotating", "tenant");

        var after = new SecretProtector(Options.Create(new SecretsOptions { Key = newKey, PreviousKey = oldKey }), Microsoft.Extensions.Logging.Abstractions.NullLogger<SecretProtector>.Instance);
        Assert.Equal("rotating", after.Unprotect(stored, "tenant"));
        Assert.NotEqual(stored.KeyId, after.Protect("rotating", "tenant").KeyId);
        var withoutPrevious = new SecretProtector(Options.Create(new SecretsOptions { Key = newKey }), Microsoft.Extensions.Logging.Abstractions.NullLogger<SecretProtector>.Instance);
        Assert.ThrowsAny<CryptographicException>(() => withoutPrevious.Unprotect(stored, "tenant"));
    }

    [Theory]
    [InlineData("4f6a2b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a", true)] // Heroku's generator: 64 hex
    [InlineData("T2sVq1l3m0nF6yJm2G8sV+K3n5e4Qx7rT9bW1cZ2dA0=", true)] // openssl rand -base64 32
    [InlineData("dG9vIHNob3J0", false)]
    [InlineData("4f6a2b9c8d7e6f5a4b3c2d1e0f9a8b7c", false)]
    [InlineData("", false)]
    public void SecretsKey_AcceptsBase64Or64HexOf32Bytes(string key, bool valid) =>
        Assert.Equal(valid, SecretProtector.DecodeKey(key) is { Length: 32 });

    [Fact]
    public async Task TokenOfTenantA_NeverResolvesTenantB()
    {
        var a = await app.InstallSiteAsync();
        var b = await app.InstallSiteAsync();

        var whoA = await app.AsContext(a).GetFromJsonAsync<JsonObject>("/api/whoami");
        Assert.Equal(a.ClientKey, whoA!["clientKey"]!.GetValue<string>());

        // A's clientKey as issuer, signed with B's secret: no tenant accepts it.
        var forged = new SimulatedSite(a.Name, a.BaseUrl, a.ClientKey) { SharedSecret = b.SharedSecret };
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new("JWT", SiteTokens.Context(forged));
        var response = await client.GetAsync("/api/whoami");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("jwt.invalid_signature", await LifecycleTests.Code(response));
    }

    [Fact]
    public async Task RowLevelSecurity_UnderTenantAsSetting_ShowsNoneOfTenantBsRows()
    {
        var a = await app.InstallSiteAsync();
        var b = await app.InstallSiteAsync();
        await app.Installer.SetEnabledAsync(app.Client(), b, enabled: false);
        var idA = (await TenantRows.FindAsync(app.DatabaseConnectionString, a.ClientKey))!.Id;
        var idB = (await TenantRows.FindAsync(app.DatabaseConnectionString, b.ClientKey))!.Id;

        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await Exec(connection, $"SELECT set_config('app.tenant_id', '{idA}', false)");
        var visible = await TenantIds(connection);
        Assert.Contains(idA, visible);
        Assert.DoesNotContain(idB, visible);
        Assert.All(visible, id => Assert.Equal(idA, id));

        // Writing a row for B while acting as A is refused by the policy's WITH CHECK.
        var insert = Assert.ThrowsAsync<PostgresException>(() => Exec(connection, $"INSERT INTO tenant_lifecycle_events (tenant_id, event_type, occurred_at) VALUES ('{idB}', 'forged', now())"));
        Assert.Equal("42501", (await insert).SqlState);

        // Without a tenant (or with the '' a reset pooled connection reads), nothing is visible: fail closed.
        await Exec(connection, "SELECT set_config('app.tenant_id', '', false)");
        Assert.Empty(await TenantIds(connection));
        await Exec(connection, "RESET app.tenant_id");
        Assert.Empty(await TenantIds(connection));
    }

    [Fact]
    public async Task EveryTableWithTenantId_HasForcedRowLevelSecurity()
    {
        await using var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            """
            SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
            FROM pg_class c JOIN information_schema.columns col ON col.table_name = c.relname AND col.column_name = 'tenant_id' AND col.table_schema = 'public'
            WHERE c.relkind = 'r'
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var tables = 0;
        var exempt = new List<string>();
        while (await reader.ReadAsync())
        {
            if (Persistence.RowLevelSecurity.SystemTables.Contains(reader.GetString(0)))
            {
                // The documented exemptions (docs/adr/0005) hold ids only; they must stay without a policy, not get one by accident.
                exempt.Add(reader.GetString(0));
                Assert.False(reader.GetBoolean(1), $"{reader.GetString(0)} is listed as a system table but has row-level security");
                continue;
            }

            tables++;
            Assert.True(reader.GetBoolean(1), $"{reader.GetString(0)} lacks forced row-level security");
        }

        Assert.True(tables > 0);
        Assert.Equal(Persistence.RowLevelSecurity.SystemTables.Order(), exempt.Order());
    }

    [Fact]
    public async Task OutgoingCalls_AreSignedSoTheSiteAcceptsThem()
    {
        using var oracle = new AtlassianJwtOracle();
        var sites = app.Simulator.Services.GetRequiredService<SiteDirectory>();
        var site = sites.Add(new SimulatedSite("outgoing-" + Guid.NewGuid().ToString("N")[..6], new Uri("http://simulator/site/placeholder")));
        site.BaseUrl = new Uri($"https://{site.Name}.atlassian.net/site/{site.Name}");
        await app.InstallAsync(site);
        var tenant = await app.App.Services.GetRequiredService<IConnectTenantStore>().FindAsync(site.ClientKey, refresh: true, CancellationToken.None);

        var signer = new ConnectSigningHandler(app.App.Services.GetRequiredService<IOptions<ConnectOptions>>(), TimeProvider.System)
        {
            InnerHandler = app.Simulator.Server.CreateHandler(),
        };
        using var http = new HttpClient(signer);
        using var request = ConnectRequest.Create(tenant!, HttpMethod.Get, "rest/api/3/serverInfo?expand=a%20b&x=*");
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());

        var token = request.Headers.Authorization!.Parameter!;
        var (payload, qshMatches, error) = oracle.Verify(token, site.SharedSecret!, "GET", request.RequestUri!.ToString(), site.BaseUrl.ToString());
        Assert.Null(error);
        Assert.True(qshMatches);
        Assert.Equal(ConnectAppFixture.AppKey, payload!["iss"]!.GetValue<string>());

        using var elsewhere = new HttpRequestMessage(HttpMethod.Get, "https://evil.example.com/steal").ForTenant(tenant!);
        await Assert.ThrowsAsync<InvalidOperationException>(() => http.SendAsync(elsewhere));
    }

    [Fact]
    public async Task TokensSignedByAtlassianJwt_AreAccepted()
    {
        using var oracle = new AtlassianJwtOracle();
        var site = await app.InstallSiteAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new JsonObject { ["iss"] = site.ClientKey, ["iat"] = now, ["exp"] = now + 180, ["sub"] = "557058:carol" };
        var url = "https://connectapp.test/api/whoami?xdm_e=https%3A%2F%2Fx.atlassian.net&cp=&lic=none&tz=Europe%2FBerlin&a=1&a=0";
        var token = oracle.Sign(claims, site.SharedSecret!, "GET", url, "https://connectapp.test");
        TestLog.RecordSecret(token);
        var response = await app.Client().GetAsync(new Uri(url).PathAndQuery + "&jwt=" + token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("557058:carol", (await response.Content.ReadFromJsonAsync<JsonObject>())!["accountId"]!.GetValue<string>());
    }

    [Fact]
    public async Task ApiResponses_AreNotCached_AndPagesMayOnlyBeFramedByTenantHosts()
    {
        var site = await app.InstallSiteAsync();
        var api = await app.AsContext(site).GetAsync("/api/whoami");
        Assert.Equal("no-store", api.Headers.CacheControl!.ToString());
        Assert.Equal("nosniff", api.Headers.GetValues("X-Content-Type-Options").Single());

        var page = await app.Client().GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'self' https://*.atlassian.net", csp, StringComparison.Ordinal);
        Assert.Equal("no-referrer", page.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task Health_LiveAndReady_ReportPostgresAndRabbitMq()
    {
        Assert.Equal(HttpStatusCode.OK, (await app.Client().GetAsync("/health/live")).StatusCode);
        var ready = await app.Client().GetFromJsonAsync<JsonObject>("/health/ready");
        Assert.Equal("Healthy", ready!["status"]!.GetValue<string>());
        Assert.Equal("Healthy", ready["checks"]!["postgresql"]!["status"]!.GetValue<string>());
        Assert.Equal("Healthy", ready["checks"]!["rabbitmq"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownRoute_AnswersProblemDetails()
    {
        var response = await app.Client().GetAsync("/api/nope");
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private static async Task Exec(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<Guid>> TenantIds(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("SELECT tenant_id FROM tenant_lifecycle_events", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<Guid>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }
}
