using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AtlassianConnect;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ConnectApp.Tests;

/// <summary>
/// Every known way to forge or replay a Connect token. Each case must be refused with its ProblemDetails code
/// and leave every tenant row exactly as it was.
/// </summary>
[Collection(AppCollection.Name)]
public sealed class JwtAttackCatalogTests(ConnectAppFixture app)
{
    private static string B64(string json) => Base64UrlEncoder.Encode(json);

    private static string Claims(SimulatedSite site, string qsh, long? iat = null, long? exp = null, bool withQsh = true)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object> { ["iss"] = site.ClientKey, ["iat"] = iat ?? now, ["exp"] = exp ?? now + 180, ["sub"] = "557058:mallory" };
        if (withQsh)
        {
            claims["qsh"] = qsh;
        }

        return JsonSerializer.Serialize(claims);
    }

    private static string Hs256(string headerJson, string payloadJson, string secret)
    {
        var input = B64(headerJson) + "." + B64(payloadJson);
        return input + "." + Base64UrlEncoder.Encode(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(input)));
    }

    private static string WhoAmIQsh => QueryStringHash.Compute("GET", "/api/whoami");

    private async Task AssertRefusedAsync(Func<HttpClient, Task<HttpResponseMessage>> send, HttpStatusCode status, string code)
    {
        var before = await TenantRows.SnapshotAsync(app.DatabaseConnectionString);
        using var response = await send(app.Client());
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, await LifecycleTests.Code(response));
        Assert.Equal(before, await TenantRows.SnapshotAsync(app.DatabaseConnectionString));
    }

    private Task AssertApiRefusedAsync(string token, string code, string path = "/api/whoami") =>
        AssertRefusedAsync(c =>
        {
            c.DefaultRequestHeaders.Authorization = new("JWT", token);
            return c.GetAsync(path);
        }, HttpStatusCode.Unauthorized, code);

    [Fact]
    public async Task AlgNone_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        var token = B64("""{"alg":"none","typ":"JWT"}""") + "." + B64(Claims(site, WhoAmIQsh)) + ".";
        await AssertApiRefusedAsync(token, "jwt.algorithm_not_allowed");
    }

    [Fact]
    public async Task Hs512_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        var input = B64("""{"alg":"HS512","typ":"JWT"}""") + "." + B64(Claims(site, WhoAmIQsh));
        var token = input + "." + Base64UrlEncoder.Encode(HMACSHA512.HashData(Encoding.UTF8.GetBytes(site.SharedSecret!), Encoding.ASCII.GetBytes(input)));
        await AssertApiRefusedAsync(token, "jwt.algorithm_not_allowed");
    }

    [Fact]
    public async Task Rs256OnAnApiEndpoint_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var token = app.Installer.SignedInstallToken(site.ClientKey, descriptor.BaseUrl, "/api/whoami", c => c["qsh"] = WhoAmIQsh);
        await AssertApiRefusedAsync(token, "jwt.algorithm_not_allowed");
    }

    [Fact]
    public async Task HsRsConfusion_InstallSignedWithThePublicKeyAsHmacSecret_IsRefused()
    {
        var site = ConnectAppFixture.NewSite();
        var pem = app.Keys.PublicPem(app.Keys.CurrentKid)!;
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var claims = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["iss"] = site.ClientKey,
            ["aud"] = new[] { descriptor.BaseUrl.ToString().TrimEnd('/') },
            ["qsh"] = QueryStringHash.Compute("POST", "/installed"),
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["exp"] = DateTimeOffset.UtcNow.AddMinutes(3).ToUnixTimeSeconds(),
        });
        var token = Hs256($$"""{"alg":"HS256","typ":"JWT","kid":"{{app.Keys.CurrentKid}}"}""", claims, pem);
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(site, descriptor.Key, "installed", "attacker-secret"), token),
            HttpStatusCode.Unauthorized, "install.algorithm_not_allowed");
    }

    [Fact]
    public async Task WrongSecret_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        await AssertApiRefusedAsync(Hs256("""{"alg":"HS256","typ":"JWT"}""", Claims(site, WhoAmIQsh), "not-the-shared-secret"), "jwt.invalid_signature");
    }

    [Fact]
    public async Task UnknownIssuer_IsRefused()
    {
        var site = ConnectAppFixture.NewSite();
        await AssertApiRefusedAsync(Hs256("""{"alg":"HS256","typ":"JWT"}""", Claims(site, WhoAmIQsh), "whatever"), "jwt.unknown_issuer");
    }

    [Fact]
    public async Task Expired_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await AssertApiRefusedAsync(Hs256("""{"alg":"HS256","typ":"JWT"}""", Claims(site, WhoAmIQsh, iat: now - 600, exp: now - 31), site.SharedSecret!), "jwt.expired");
    }

    [Fact]
    public async Task ExpiredWithinLeeway_IsAccepted()
    {
        var site = await app.InstallSiteAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new("JWT", Hs256("""{"alg":"HS256","typ":"JWT"}""", Claims(site, WhoAmIQsh, iat: now - 600, exp: now - 10), site.SharedSecret!));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/whoami")).StatusCode);
    }

    [Fact]
    public async Task IssuedInTheFuture_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await AssertApiRefusedAsync(Hs256("""{"alg":"HS256","typ":"JWT"}""", Claims(site, WhoAmIQsh, iat: now + 600, exp: now + 900), site.SharedSecret!), "jwt.issued_in_future");
    }

    [Fact]
    public async Task MissingExp_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        var payload = JsonSerializer.Serialize(new { iss = site.ClientKey, iat = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), qsh = WhoAmIQsh });
        await AssertApiRefusedAsync(Hs256("""{"alg":"HS256","typ":"JWT"}""", payload, site.SharedSecret!), "jwt.missing_exp");
    }

    [Fact]
    public async Task QshForAnotherPath_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        await AssertApiRefusedAsync(SiteTokens.Request(site, "GET", "/api/other"), "jwt.qsh_mismatch");
    }

    [Fact]
    public async Task QshForAnotherQuery_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        var token = SiteTokens.Request(site, "GET", "/api/whoami?accountId=victim");
        await AssertRefusedAsync(c => c.GetAsync("/api/whoami?accountId=mallory&jwt=" + token), HttpStatusCode.Unauthorized, "jwt.qsh_mismatch");
    }

    [Fact]
    public async Task QshForAnotherMethod_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        await AssertApiRefusedAsync(SiteTokens.Request(site, "POST", "/api/whoami"), "jwt.qsh_mismatch");
    }

    [Fact]
    public async Task ContextToken_OnAnEndpointThatDoesNotOptIn_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "disabled", ConnectAppInstaller.Payload(site, descriptor.Key, "disabled"), SiteTokens.Context(site)),
            HttpStatusCode.Unauthorized, "jwt.context_token_not_allowed");
    }

    [Fact]
    public async Task MissingQsh_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        await AssertApiRefusedAsync(Hs256("""{"alg":"HS256","typ":"JWT"}""", Claims(site, WhoAmIQsh, withQsh: false), site.SharedSecret!), "jwt.missing_qsh");
    }

    [Fact]
    public async Task TokenOfAnUninstalledTenant_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        await app.Installer.UninstallAsync(app.Client(), site);
        await AssertApiRefusedAsync(SiteTokens.Context(site), "jwt.tenant_uninstalled");
    }

    [Fact]
    public async Task Install_WithUnknownKid_IsRefused()
    {
        var site = ConnectAppFixture.NewSite();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        using var rogue = RSA.Create(2048);
        var token = new JsonWebTokenHandler().CreateToken(
            JsonSerializer.Serialize(new { iss = site.ClientKey, aud = descriptor.BaseUrl.ToString().TrimEnd('/'), qsh = QueryStringHash.Compute("POST", "/installed"), exp = DateTimeOffset.UtcNow.AddMinutes(3).ToUnixTimeSeconds() }),
            new SigningCredentials(new RsaSecurityKey(rogue) { KeyId = "simulator/unknown-kid" }, SecurityAlgorithms.RsaSha256));
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(site, descriptor.Key, "installed", "s"), token),
            HttpStatusCode.Unauthorized, "install.unknown_kid");
    }

    [Fact]
    public async Task Install_SignedByAnotherKeyUnderAKnownKid_IsRefused()
    {
        var site = ConnectAppFixture.NewSite();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        using var rogue = RSA.Create(2048);
        var token = new JsonWebTokenHandler().CreateToken(
            JsonSerializer.Serialize(new { iss = site.ClientKey, aud = descriptor.BaseUrl.ToString().TrimEnd('/'), qsh = QueryStringHash.Compute("POST", "/installed"), exp = DateTimeOffset.UtcNow.AddMinutes(3).ToUnixTimeSeconds() }),
            new SigningCredentials(new RsaSecurityKey(rogue) { KeyId = app.Keys.CurrentKid }, SecurityAlgorithms.RsaSha256));
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(site, descriptor.Key, "installed", "s"), token),
            HttpStatusCode.Unauthorized, "install.invalid_signature");
    }

    [Fact]
    public async Task Install_ForAnotherAudience_IsRefused()
    {
        var site = ConnectAppFixture.NewSite();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var token = app.Installer.SignedInstallToken(site.ClientKey, new Uri("https://another-app.example.com"), "/installed");
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(site, descriptor.Key, "installed", "s"), token),
            HttpStatusCode.Unauthorized, "install.wrong_audience");
    }

    [Fact]
    public async Task Install_WhoseIssuerIsNotTheBodysClientKey_IsRefused()
    {
        var victim = await app.InstallSiteAsync();
        var attacker = ConnectAppFixture.NewSite();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var token = app.Installer.SignedInstallToken(attacker.ClientKey, descriptor.BaseUrl, "/installed");
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(victim, descriptor.Key, "installed", "attacker-chosen-secret"), token),
            HttpStatusCode.Unauthorized, "install.wrong_issuer");
    }

    [Fact]
    public async Task Uninstall_OfAnotherTenant_IsRefused()
    {
        var victim = await app.InstallSiteAsync();
        var attacker = await app.InstallSiteAsync();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var token = app.Installer.SignedInstallToken(attacker.ClientKey, descriptor.BaseUrl, "/uninstalled");
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "uninstalled", ConnectAppInstaller.Payload(victim, descriptor.Key, "uninstalled"), token),
            HttpStatusCode.Unauthorized, "install.wrong_issuer");
    }

    [Fact]
    public async Task Install_ReplayedOnAnotherLifecyclePath_IsRefused()
    {
        var site = ConnectAppFixture.NewSite();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var token = app.Installer.SignedInstallToken(site.ClientKey, descriptor.BaseUrl, "/uninstalled");
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(site, descriptor.Key, "installed", "s"), token),
            HttpStatusCode.Unauthorized, "install.qsh_mismatch");
    }

    [Fact]
    public async Task Install_Expired_IsRefused()
    {
        var site = ConnectAppFixture.NewSite();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var token = app.Installer.SignedInstallToken(site.ClientKey, descriptor.BaseUrl, "/installed", c =>
        {
            c["iat"] = DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds();
            c["exp"] = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds();
        });
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(site, descriptor.Key, "installed", "s"), token),
            HttpStatusCode.Unauthorized, "install.expired");
    }

    [Fact]
    public async Task Install_WithoutToken_IsRefused()
    {
        var site = ConnectAppFixture.NewSite();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(site, descriptor.Key, "installed", "s"), token: null),
            HttpStatusCode.Unauthorized, "install.missing_token");
    }

    [Theory]
    [InlineData("https://evil.example.com")]
    [InlineData("https://acme.atlassian.net.evil.com")]
    [InlineData("https://evilatlassian.net")]
    [InlineData("http://acme.atlassian.net")]
    [InlineData("http://127.0.0.1:8090/site/x")]
    public async Task Install_WithBaseUrlHostNotAllowed_IsRefused(string baseUrl)
    {
        var site = new SimulatedSite("evil", new Uri(baseUrl));
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var token = app.Installer.SignedInstallToken(site.ClientKey, descriptor.BaseUrl, "/installed");
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(site, descriptor.Key, "installed", "s"), token),
            HttpStatusCode.BadRequest, "lifecycle.base_url_not_allowed");
    }

    [Fact]
    public async Task Install_ForAnotherAppKey_IsRefused()
    {
        var site = ConnectAppFixture.NewSite();
        var descriptor = await ConnectAppInstaller.ReadDescriptorAsync(app.Client());
        var token = app.Installer.SignedInstallToken(site.ClientKey, descriptor.BaseUrl, "/installed");
        await AssertRefusedAsync(c => ConnectAppInstaller.SendAsync(c, "installed", ConnectAppInstaller.Payload(site, "com.other.app", "installed", "s"), token),
            HttpStatusCode.BadRequest, "lifecycle.wrong_app_key");
    }

    [Fact]
    public async Task OversizedToken_IsRefusedBeforeParsing()
    {
        var site = await app.InstallSiteAsync();
        await AssertApiRefusedAsync(SiteTokens.Context(site) + new string('A', 9000), "jwt.too_large");
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("%%%.###.$$$")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.!!!!.sig")]
    [InlineData("a.b")]
    [InlineData("....")]
    public async Task GarbageToken_IsRefusedAsMalformed(string token) => await AssertApiRefusedAsync(token, "jwt.malformed");

    [Fact]
    public async Task TokenInQueryAndFormBoth_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        var token = SiteTokens.Request(site, "POST", "/api/bulk/values");
        await AssertRefusedAsync(
            c => c.PostAsync("/api/bulk/values?jwt=" + token, new FormUrlEncodedContent([new("jwt", token)])),
            HttpStatusCode.Unauthorized, "jwt.ambiguous");
    }

    [Fact]
    public async Task MissingToken_IsRefused() =>
        await AssertRefusedAsync(c => c.GetAsync("/api/whoami"), HttpStatusCode.Unauthorized, "jwt.missing");

    [Fact]
    public async Task DisabledTenantToken_IsRefused()
    {
        var site = await app.InstallSiteAsync();
        await app.Installer.SetEnabledAsync(app.Client(), site, enabled: false);
        await AssertApiRefusedAsync(SiteTokens.Context(site), "jwt.tenant_disabled");
    }

    [Fact]
    public async Task MalformedLifecyclePayload_IsRefusedAndChangesNothing()
    {
        await AssertRefusedAsync(c => c.PostAsync("/installed", new StringContent("{not json", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "lifecycle.malformed_body");
        await AssertRefusedAsync(c => c.PostAsync("/installed", new StringContent("{}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "lifecycle.missing_client_key");
        await AssertRefusedAsync(c => c.PostAsync("/installed", new StringContent("clientKey=x", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType, "lifecycle.unsupported_media_type");
    }
}
