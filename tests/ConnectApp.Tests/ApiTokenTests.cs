using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Operability;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ConnectApp.Tests;

[Collection(AppCollection.Name)]
public sealed class ApiTokenTests(ConnectAppFixture app)
{
    private sealed record IssuedToken(string Id, string Value)
    {
        public string Secret => Value[^43..];
    }

    [Fact]
    public async Task Create_ShowsTheTokenOnce_AndTheTokenReadsOrganizations()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var agent = app.As(site, SiteRole.Agent);
        await agent.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Acme" }).OkJsonAsync(HttpStatusCode.Created);

        using var response = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "CRM sync", scopes = new[] { "read" } });
        var created = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        var value = created["token"]!.GetValue<string>();
        TestLog.RecordSecret(value);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Matches("^cat_[0-9a-f]{32}_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$", value);
        Assert.Equal("CRM sync", created["name"]!.GetValue<string>());
        Assert.Equal(["read"], created["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        var id = created["id"]!.GetValue<string>();
        Assert.Contains(id.Replace("-", string.Empty, StringComparison.Ordinal), value, StringComparison.Ordinal);

        var orgs = await Bearer(value).GetAsync("api/organizations").OkJsonAsync();
        Assert.Equal("Acme", orgs["values"]![0]!["name"]!.GetValue<string>());

        using var list = await admin.GetAsync("api/admin/api-tokens");
        var listText = await list.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.DoesNotContain(value[^43..], listText, StringComparison.Ordinal);
        var listed = Assert.Single(JsonNode.Parse(listText)!.AsArray())!.AsObject();
        Assert.Equal(id, listed["id"]!.GetValue<string>());
        Assert.Null(listed["token"]);
        Assert.Null(listed["secretHash"]);
        Assert.Null(listed["revokedAt"]);
        Assert.NotNull(listed["lastUsedAt"]); // the call above used it
        Assert.StartsWith("557058:admin-", listed["createdBy"]!.GetValue<string>(), StringComparison.Ordinal);
        var one = await admin.GetAsync($"api/admin/api-tokens/{id}").OkJsonAsync();
        Assert.Null(one["token"]);
    }

    [Fact]
    public async Task StoredToken_IsOnlyTheSha256OfItsSecret()
    {
        var site = await app.InstallSiteAsync();
        var token = await CreateAsync(app.As(site, SiteRole.Admin), "read");
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;

        await using var connection = await OpenAsTenantAsync(tenantId);
        await using var command = new NpgsqlCommand("SELECT secret_hash, t::text FROM api_tokens t WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", Guid.Parse(token.Id));
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var hash = (byte[])reader[0];
        var row = reader.GetString(1);
        Assert.Equal(SHA256.HashData(Encoding.ASCII.GetBytes(token.Secret)), hash);
        Assert.DoesNotContain(token.Secret, row, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Secret[..12], row, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(Encoding.ASCII.GetBytes(token.Secret[..12])), row, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Revoke_RefusesTheTokenAtOnce_IsIdempotent_AndIsAudited()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var token = await CreateAsync(admin, "read", "write");
        var client = Bearer(token.Value);
        await client.GetAsync("api/organizations").OkJsonAsync();

        using (var revoked = await admin.DeleteAsync($"api/admin/api-tokens/{token.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        await client.GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Unauthorized, "api_token.revoked");
        using (var again = await admin.DeleteAsync($"api/admin/api-tokens/{token.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }

        await admin.DeleteAsync($"api/admin/api-tokens/{Guid.NewGuid()}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        var listed = (await admin.GetAsync($"api/admin/api-tokens/{token.Id}").OkJsonAsync())["revokedAt"];
        Assert.NotNull(listed);

        var audit = await AuditRowsAsync(site, "api_token");
        Assert.Equal(["api_token.created", "api_token.revoked"], audit.Select(a => a.Action));
        Assert.All(audit, a =>
        {
            Assert.StartsWith("557058:admin-", a.Actor, StringComparison.Ordinal);
            Assert.Contains(token.Id, a.NewValue, StringComparison.Ordinal);
            Assert.DoesNotContain(token.Secret, a.NewValue, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task TamperedOrForeignTokens_Are401()
    {
        var siteA = await app.InstallSiteAsync();
        var siteB = await app.InstallSiteAsync();
        var token = await CreateAsync(app.As(siteA, SiteRole.Admin), "read");
        var tenantB = (await TenantRows.FindAsync(app.DatabaseConnectionString, siteB.ClientKey))!.Id;
        var last = token.Value[^1] == 'A' ? 'B' : 'A';
        var tampered = new[]
        {
            token.Value[..^1] + last, // one character of the secret
            token.Value[..70] + new string('A', 43), // another secret
            string.Concat(token.Value.AsSpan(0, 37), Guid.NewGuid().ToString("N"), token.Value.AsSpan(69)), // another token id
            string.Concat("cat_", tenantB.ToString("N"), token.Value.AsSpan(36)), // the same token under another tenant
            token.Value[..^1], // truncated
            token.Value + "A",
            token.Value.ToUpperInvariant(),
            "cat_",
            "not-a-token",
        };
        foreach (var value in tampered)
        {
            if (value.Length > 40)
            {
                TestLog.RecordSecret(value); // near-copies of a real token; the short junk would only make the hygiene grep match innocent text
            }

            await Bearer(value).GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Unauthorized, "api_token.invalid");
        }

        using var response = await Bearer(tampered[0]).GetAsync("api/whoami");
        Assert.Equal("Bearer error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        await Bearer(token.Value).GetAsync("api/whoami").OkJsonAsync(); // the original still works
    }

    [Fact]
    public async Task TokenOfTenantA_CannotReadOrChangeTenantBsRecords()
    {
        var siteA = await app.InstallSiteAsync();
        var siteB = await app.InstallSiteAsync();
        var adminB = app.As(siteB, SiteRole.Admin);
        await adminB.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        var orgB = await adminB.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "b-1", name = "Bravo" }).OkJsonAsync(HttpStatusCode.Created);
        var idB = orgB["id"]!.GetValue<string>();
        var (beforeB, etagB) = await adminB.GetWithETagAsync($"api/organizations/{idB}");
        var adminA = app.As(siteA, SiteRole.Admin);
        await adminA.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        var tokenA = Bearer((await CreateAsync(adminA, "read", "write")).Value);

        await tokenA.GetAsync($"api/organizations/{idB}").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await tokenA.GetAsync($"api/organizations/{idB}/history").ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await tokenA.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{idB}/values", new { values = new { tier = "x" } }, etagB).ProblemAsync(HttpStatusCode.NotFound, "not_found");
        await tokenA.SendJsonAsync(HttpMethod.Post, "api/bulk/values", new { entity = "organization", recordIds = new[] { idB }, values = new { tier = "x" } })
            .ProblemAsync(HttpStatusCode.NotFound, "bulk.records_not_found");
        Assert.Empty((await tokenA.GetAsync("api/organizations").OkJsonAsync())["values"]!.AsArray());
        using (var fields = await tokenA.GetAsync("api/fields"))
        {
            Assert.Equal(HttpStatusCode.OK, fields.StatusCode);
            Assert.Single(JsonNode.Parse(await fields.Content.ReadAsStringAsync())!.AsArray()); // A's own field, not B's as well
        }

        var (afterB, _) = await adminB.GetWithETagAsync($"api/organizations/{idB}");
        Assert.Equal(beforeB.ToJsonString(), afterB.ToJsonString());
    }

    [Fact]
    public async Task ReadScopeCannotWrite_WriteScopeWrites_AndTheAuditNamesTheToken()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/fields", new { entity = "organization", key = "tier", label = "Tier", type = "text" }).OkJsonAsync(HttpStatusCode.Created);
        var reader = Bearer((await CreateAsync(admin, "read")).Value);
        var writerToken = await CreateAsync(admin, "write");
        var writer = Bearer(writerToken.Value);

        await reader.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Acme" }).ProblemAsync(HttpStatusCode.Forbidden, "api_token.scope");
        var org = await writer.SendJsonAsync(HttpMethod.Post, "api/organizations", new { jsmId = "1", name = "Acme" }).OkJsonAsync(HttpStatusCode.Created);
        var id = org["id"]!.GetValue<string>();
        await writer.GetAsync($"api/organizations/{id}").ProblemAsync(HttpStatusCode.Forbidden, "api_token.scope"); // write does not imply read
        var (_, etag) = await reader.GetWithETagAsync($"api/organizations/{id}");

        await reader.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{id}/values", new { values = new { tier = "gold" } }, etag).ProblemAsync(HttpStatusCode.Forbidden, "api_token.scope");
        await reader.SendJsonAsync(HttpMethod.Post, "api/bulk/values", new { entity = "organization", recordIds = new[] { id }, values = new { tier = "gold" } })
            .ProblemAsync(HttpStatusCode.Forbidden, "api_token.scope");
        await reader.SendJsonAsync(HttpMethod.Post, "api/history/1/restore", null).ProblemAsync(HttpStatusCode.Forbidden, "api_token.scope");
        var updated = await writer.SendJsonAsync(HttpMethod.Patch, $"api/organizations/{id}/values", new { values = new { tier = "gold" } }, etag).OkJsonAsync();
        Assert.Equal("gold", updated["values"]!["tier"]!.GetValue<string>());
        await writer.SendJsonAsync(HttpMethod.Post, "api/bulk/values", new { entity = "organization", recordIds = new[] { id }, values = new { tier = "silver" } }).OkJsonAsync();

        var (current, _) = await reader.GetWithETagAsync($"api/organizations/{id}");
        Assert.Equal("silver", current["values"]!["tier"]!.GetValue<string>());
        var audit = await AuditRowsAsync(site, "organization");
        Assert.NotEmpty(audit);
        Assert.All(audit, a => Assert.Equal("token:" + writerToken.Id, a.Actor));
    }

    [Theory]
    [InlineData("GET", "api/admin/api-tokens")]
    [InlineData("POST", "api/admin/api-tokens")]
    [InlineData("POST", "api/admin/fields")]
    [InlineData("PUT", "api/admin/fields/order")]
    [InlineData("GET", "api/portal/me")]
    [InlineData("PATCH", "api/portal/customers/00000000-0000-0000-0000-000000000001/values")]
    public async Task Tokens_NeverReachAdminOrPortalEndpoints(string method, string url)
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        var token = Bearer((await CreateAsync(admin, "read", "write")).Value);

        await token.SendJsonAsync(new HttpMethod(method), url, method == "GET" ? null : new { name = "x", scopes = new[] { "read" } })
            .ProblemAsync(HttpStatusCode.Forbidden, "api_token.not_allowed");
        Assert.Single(await ListAsync(admin)); // the token's own POST created nothing
    }

    [Theory]
    [InlineData(SiteRole.Agent)]
    [InlineData(SiteRole.Customer)]
    public async Task NonAdmins_CannotManageTokens(SiteRole role)
    {
        var site = await app.InstallSiteAsync();
        var token = await CreateAsync(app.As(site, SiteRole.Admin), "read");
        var user = app.As(site, role);

        await user.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "mine", scopes = new[] { "read" } }).ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await user.GetAsync("api/admin/api-tokens").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await user.DeleteAsync($"api/admin/api-tokens/{token.Id}").ProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        await Bearer(token.Value).GetAsync("api/whoami").OkJsonAsync(); // not revoked
        Assert.Single(await ListAsync(app.As(site, SiteRole.Admin)));
    }

    public static TheoryData<string> InvalidCreateBodies => new()
    {
        """{"name":"","scopes":["read"]}""",
        """{"name":"   ","scopes":["read"]}""",
        "{\"name\":\"" + new string('n', 101) + "\",\"scopes\":[\"read\"]}",
        """{"name":"a\u0000b","scopes":["read"]}""",
        """{"scopes":["read"]}""",
        """{"name":"x","scopes":[]}""",
        """{"name":"x"}""",
        """{"name":"x","scopes":["admin"]}""",
        """{"name":"x","scopes":["read","READ"]}""",
        """{"name":"x","scopes":[null]}""",
    };

    [Theory]
    [MemberData(nameof(InvalidCreateBodies))]
    public async Task InvalidCreateInput_Is400_AndStoresNothing(string body)
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);

        // A NUL character is refused before any endpoint by the input gate, with its own code (BadInputTests).
        var code = body.Contains("\\u0000", StringComparison.Ordinal) ? "input.nul_character" : "validation_failed";
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", JsonNode.Parse(body)).ProblemAsync(HttpStatusCode.BadRequest, code);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "x", scopes = "read" }).ProblemAsync(HttpStatusCode.BadRequest, "bad_request");
        Assert.Empty(await ListAsync(admin));
        Assert.Empty(await AuditRowsAsync(site, "api_token"));
    }

    [Fact]
    public async Task Name101Characters_Is400_100IsAccepted()
    {
        var site = await app.InstallSiteAsync();
        var admin = app.As(site, SiteRole.Admin);
        await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = new string('n', 101), scopes = new[] { "read" } }).ProblemAsync(HttpStatusCode.BadRequest, "validation_failed");
        var created = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = new string('n', 100), scopes = new[] { "write", "read", "write" } }).OkJsonAsync(HttpStatusCode.Created);
        TestLog.RecordSecret(created["token"]!.GetValue<string>());
        Assert.Equal(["read", "write"], created["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task BurstBeyondTheLimit_Gets429WithRetryAfter_OnlyForThatTenantsTokens()
    {
        var busy = await app.InstallSiteAsync();
        var quiet = await app.InstallSiteAsync();
        var busyToken = Bearer((await CreateAsync(app.As(busy, SiteRole.Admin), "read")).Value);
        var quietToken = Bearer((await CreateAsync(app.As(quiet, SiteRole.Admin), "read")).Value);
        var busyAgent = app.As(busy, SiteRole.Agent);

        var burst = ConnectAppFactory.ApiTokenRateLimit * 5;
        var responses = await Task.WhenAll(Enumerable.Range(0, burst).Select(_ => busyToken.GetAsync("api/whoami")));
        try
        {
            var limited = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.NotEmpty(limited);
            Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
            Assert.True(burst - limited.Count >= ConnectAppFactory.ApiTokenRateLimit, $"only {burst - limited.Count} of {burst} got through");
            foreach (var response in limited)
            {
                var retryAfter = response.Headers.RetryAfter?.Delta;
                Assert.NotNull(retryAfter);
                Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.Equal("rate_limited", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["code"]!.GetValue<string>());
            }
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }

        // Right after the burst: another tenant's token, and the busy tenant's own iframe calls, are not held back.
        await quietToken.GetAsync("api/whoami").OkJsonAsync();
        await busyAgent.GetAsync("api/organizations").OkJsonAsync();
    }

    [Fact]
    public async Task TokensOfAnUninstalledOrDisabledSite_AreRefused()
    {
        var site = await app.InstallSiteAsync();
        var token = Bearer((await CreateAsync(app.As(site, SiteRole.Admin), "read")).Value);

        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.SetEnabledAsync(app.Client(), site, enabled: false)).StatusCode);
        await token.GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Unauthorized, "api_token.tenant_inactive");
        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.SetEnabledAsync(app.Client(), site, enabled: true)).StatusCode);
        await token.GetAsync("api/organizations").OkJsonAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await app.Installer.UninstallAsync(app.Client(), site)).StatusCode);
        await token.GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Unauthorized, "api_token.tenant_inactive");
    }

    [Fact]
    public async Task WhoAmI_WithAToken_NamesTheSiteAndNoUser()
    {
        var site = await app.InstallSiteAsync();
        var me = await Bearer((await CreateAsync(app.As(site, SiteRole.Admin), "read")).Value).GetAsync("api/whoami").OkJsonAsync();
        Assert.Equal(site.ClientKey, me["clientKey"]!.GetValue<string>());
        Assert.Null(me["accountId"]);
    }

    [Fact]
    public async Task TokenValues_NeverReachTheLog()
    {
        var site = await app.InstallSiteAsync();
        var token = await CreateAsync(app.As(site, SiteRole.Admin), "read");
        await Bearer(token.Value).GetAsync("api/organizations").OkJsonAsync();
        await Bearer(token.Value[..^1] + "_").GetAsync("api/organizations").ProblemAsync(HttpStatusCode.Unauthorized, "api_token.invalid");

        await Task.Delay(200); // the file sink flushes on its own schedule
        var log = TestLog.Read();
        Assert.DoesNotContain(token.Secret, log, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Value[..69], log, StringComparison.Ordinal);

        // Whatever a future call site logs, the formatter masks the value, after "Bearer" or on its own.
        foreach (var text in new[] { "Authorization: Bearer " + token.Value, "token " + token.Value + " failed", $"{{\"token\":\"{token.Value}\"}}" })
        {
            var redacted = RedactingFormatter.Redact(text);
            Assert.DoesNotContain(token.Secret, redacted, StringComparison.Ordinal);
            Assert.Contains(RedactingFormatter.Mask, redacted, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void EveryApiEndpoint_IsOpenToSomeScope_ExceptAdminPortalAndPersonal()
    {
        // A tripwire for new endpoints: tokens are refused anything not listed in ApiTokenScopes (fail closed), so a
        // new agent endpoint fails here until someone decides which scope, if any, may call it.
        var everything = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new(ConnectApp.Api.AppClaims.TokenScope, "read"), new(ConnectApp.Api.AppClaims.TokenScope, "write")], "test"));
        var endpoints = app.App.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .ToList();
        Assert.NotEmpty(endpoints);
        var closed = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var path = System.Text.RegularExpressions.Regex.Replace(endpoint.RoutePattern.RawText!, "{[^}]+}", "x");
            var adminOrPortal = new[] { "/api/admin/", "/api/portal/", "/api/views/", "/api/me/" }.Any(p => path.StartsWith(p, StringComparison.Ordinal)); // personal endpoints: an agent's own views and columns
            foreach (var method in endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? [])
            {
                var refusal = ConnectApp.ApiTokens.ApiTokenScopes.Refusal(method, path, everything);
                if ((refusal is null) == adminOrPortal)
                {
                    closed.Add($"{method} {path}: {refusal?.Code ?? "open"}");
                }
            }
        }

        Assert.Empty(closed);
    }

    private async Task<IssuedToken> CreateAsync(HttpClient admin, params string[] scopes)
    {
        using var response = await admin.SendJsonAsync(HttpMethod.Post, "api/admin/api-tokens", new { name = "integration " + Guid.NewGuid().ToString("N")[..6], scopes });
        var text = await response.Content.ReadAsStringAsync();
        var body = JsonNode.Parse(text)!;
        if (body["token"]?.GetValue<string>() is { } value)
        {
            TestLog.RecordSecret(value);
            TestLog.RecordSecret(value[^43..]);
        }

        Assert.True(response.StatusCode == HttpStatusCode.Created, $"expected 201, got {(int)response.StatusCode}");
        return new IssuedToken(body["id"]!.GetValue<string>(), body["token"]!.GetValue<string>());
    }

    private HttpClient Bearer(string token)
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<JsonArray> ListAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync("api/admin/api-tokens");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
    }

    private async Task<NpgsqlConnection> OpenAsTenantAsync(Guid tenantId)
    {
        // The app's own role: row-level security applies, so the raw read has to name the tenant as the app does.
        var connection = new NpgsqlConnection(app.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var set = new NpgsqlCommand("SELECT set_config('app.tenant_id', @t, false)", connection);
        set.Parameters.AddWithValue("t", tenantId.ToString());
        await set.ExecuteNonQueryAsync();
        return connection;
    }

    private sealed record AuditRow(string Actor, string Action, string NewValue);

    private async Task<List<AuditRow>> AuditRowsAsync(SimulatedSite site, string subject)
    {
        var tenantId = (await TenantRows.FindAsync(app.DatabaseConnectionString, site.ClientKey))!.Id;
        await using var connection = await OpenAsTenantAsync(tenantId);
        await using var command = new NpgsqlCommand("SELECT actor, action, coalesce(new_value::text, '') FROM audit_entries WHERE subject = @s ORDER BY id", connection);
        command.Parameters.AddWithValue("s", subject);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<AuditRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new AuditRow(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }
}
