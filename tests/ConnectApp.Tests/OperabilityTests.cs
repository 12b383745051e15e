using System.Diagnostics;
using ConnectApp.Tests.Infrastructure;
using JiraSimulator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ConnectApp.Tests;

[Collection(AppCollection.Name)]
public sealed class OperabilityTests(ConnectAppFixture app)
{
    [Fact]
    public async Task Logs_RedactJwtsSecretsCredentialsAndEmails_WhateverTheCallSiteLogs()
    {
        var site = await app.InstallSiteAsync();
        var token = SiteTokens.Context(site);
        TestLog.RecordSecret(token);
        var marker = Guid.NewGuid().ToString("N");
        var logger = app.App.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LeakyCallSite");
        logger.LogWarning("{Marker} token {Token} header JWT {Header} url https://x/y?a=1&jwt={Query} email jane.doe+jsm@example.org db postgres://app:{Secret}@db:5432/x {Payload}",
            marker, token, token, token, site.SharedSecret, new { sharedSecret = site.SharedSecret, password = "hunter2hunter2" });
        logger.LogError(new InvalidOperationException("failed for bob@example.com with " + token), "{Marker} boom", marker);

        var lines = await WaitForLinesAsync(marker, 2);
        var text = string.Join('\n', lines);
        Assert.DoesNotContain(token, text, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[2], text, StringComparison.Ordinal);
        Assert.DoesNotContain(site.SharedSecret!, text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2hunter2", text, StringComparison.Ordinal);
        Assert.DoesNotContain("jane.doe", text, StringComparison.Ordinal);
        Assert.DoesNotContain("bob@example.com", text, StringComparison.Ordinal);
        Assert.Contains("[redacted]", text, StringComparison.Ordinal);
        Assert.Contains("InvalidOperationException", text, StringComparison.Ordinal); // the useful part survives
    }

    [Fact]
    public void Startup_MakesNoDataProtectionKeyRing()
    {
        // ASP.NET Core's authentication brings Data Protection, whose hosted service creates an XML key ring at startup
        // and warns that it is unencrypted; on a fresh dyno that was a warning in every process's first lines. The app
        // protects nothing with it, so nothing of it runs at startup.
        var dataProtection = typeof(Microsoft.AspNetCore.DataProtection.DataProtectionOptions).Assembly;
        var hosted = app.App.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().Select(s => s.GetType()).ToList();

        Assert.NotEmpty(hosted); // the app's own hosted services are there (the listener, the log sink, ...)
        Assert.DoesNotContain(hosted, t => t.Assembly == dataProtection);
    }

    [Fact]
    public async Task FailedAuthentication_IsLoggedWithItsCode_NotTheToken()
    {
        var site = await app.InstallSiteAsync();
        var token = SiteTokens.Request(site, "GET", "/api/other");
        TestLog.RecordSecret(token);
        var response = await app.Client().GetAsync("/api/whoami?jwt=" + token);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        var log = TestLog.Read();
        Assert.Contains("jwt.qsh_mismatch", log, StringComparison.Ordinal);
        Assert.DoesNotContain(token, log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "DATABASE_URL=postgres://app:pw@127.0.0.1:5432/x", "SECRETS_KEY is not set")]
    [InlineData("bm90LTMyLWJ5dGVz", "DATABASE_URL=postgres://app:pw@127.0.0.1:5432/x", "SECRETS_KEY is malformed")]
    [InlineData("VALID", "DATABASE_URL=mysql://nope", "DATABASE_URL is malformed")]
    [InlineData("VALID", "APP_BASE_URL=ftp://x", "APP_BASE_URL must be an absolute http(s) URL")]
    [InlineData("VALID", "CONNECT_OAUTH_URL=ftp://x", "CONNECT_OAUTH_URL must be an absolute http(s) URL")]
    [InlineData("VALID", "CONNECT_OAUTH_URL=nope", "CONNECT_OAUTH_URL must be an absolute http(s) URL")]
    [InlineData("VALID", "RABBITMQ_URL=http://nope", "RABBITMQ_URL is malformed")]
    [InlineData("VALID", "API_TOKEN_RATE_LIMIT=fast", "API_TOKEN_RATE_LIMIT is malformed")]
    [InlineData("VALID", "API_TOKEN_RATE_LIMIT=0", "API_TOKEN_RATE_LIMIT is malformed")]
    [InlineData("VALID", "FORGE_APP_ID=nope", "FORGE_APP_ID must be the Forge app id")]
    [InlineData("VALID", "FORGE_API_BASE_URLS=http://gateway.example/", "FORGE_API_BASE_URLS must list https URL prefixes")]
    [InlineData("VALID", "RETENTION_DAYS=ninety", "RETENTION_DAYS must be a whole number of days from 1 to 3650")]
    [InlineData("VALID", "RETENTION_DAYS=0", "RETENTION_DAYS must be a whole number of days from 1 to 3650")]
    [InlineData("VALID", "INACTIVITY_DAYS=-5", "INACTIVITY_DAYS must be a whole number of days")]
    [InlineData("VALID", "SYNC_INTERVAL_MINUTES=hourly", "SYNC_INTERVAL_MINUTES must be a whole number of minutes")]
    public async Task BadConfiguration_StopsStartUpWithOneClearLine(string? secretsKey, string setting, string expected)
    {
        var dll = Path.Combine(ConnectTesting.AtlassianJwtOracle.RepositoryRoot(), "src", "ConnectApp", "bin", BuildConfiguration(), "net10.0", "ConnectApp.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "web"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("SECRETS_KEY");
        start.Environment["PORT"] = "0";
        if (secretsKey is not null)
        {
            start.Environment["SECRETS_KEY"] = secretsKey == "VALID" ? app.SecretsKey : secretsKey;
        }

        var (name, value) = (setting.Split('=', 2)[0], setting.Split('=', 2)[1]);
        start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(cts.Token);

        Assert.Equal(1, process.ExitCode);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("ConnectApp: configuration error:", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("pw@", line + await stdout, StringComparison.Ordinal);
    }

    private static string BuildConfiguration() =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static async Task<List<string>> WaitForLinesAsync(string marker, int count)
    {
        for (var i = 0; i < 50; i++)
        {
            var lines = TestLog.Read().Split('\n').Where(l => l.Contains(marker, StringComparison.Ordinal)).ToList();
            if (lines.Count >= count)
            {
                return lines;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("log lines did not arrive");
    }
}
