using System.ComponentModel.DataAnnotations;
using AtlassianConnect.Forge;

namespace AtlassianConnect.Tests;

public sealed class ForgeOptionsTests
{
    [Theory]
    [InlineData("6f2c1a0e-5b7d-4c1e-9a3f-1d2e3f4a5b6c", "ari:cloud:ecosystem::app/6f2c1a0e-5b7d-4c1e-9a3f-1d2e3f4a5b6c")]
    [InlineData("ari:cloud:ecosystem::app/6f2c1a0e-5b7d-4c1e-9a3f-1d2e3f4a5b6c", "ari:cloud:ecosystem::app/6f2c1a0e-5b7d-4c1e-9a3f-1d2e3f4a5b6c")]
    [InlineData(null, null)]
    [InlineData("", null)]
    public void Audience_IsTheAppAri_WhateverFormTheIdIsGivenIn(string? appId, string? audience) =>
        Assert.Equal(audience, new ForgeOptions { AppId = appId }.Audience);

    [Theory]
    [InlineData("https://api.atlassian.com/ex/jira/6f2c1a0e-5b7d-4c1e-9a3f-1d2e3f4a5b6c", true)]
    [InlineData("https://api.stg.atlassian.com/ex/jira/x", true)]
    [InlineData("https://API.ATLASSIAN.COM/ex/jira/x", true)]
    [InlineData("http://api.atlassian.com/ex/jira/x", false)] // an OAuth token over plain http
    [InlineData("https://api.atlassian.com.evil.example/ex/jira/x", false)]
    [InlineData("https://user:pw@api.atlassian.com/ex/jira/x", false)]
    [InlineData("https://api.atlassian.com/ex/jira/x?redirect=https://evil.example", false)]
    [InlineData("https://evil.example/https://api.atlassian.com/", false)]
    [InlineData("not a url", false)]
    [InlineData(null, false)]
    public void ApiBaseUrl_MustBeAnAtlassianGateway(string? apiBaseUrl, bool allowed) =>
        Assert.Equal(allowed, new ForgeOptions().IsAllowedApiBaseUrl(apiBaseUrl));

    [Fact]
    public void LoopbackHttpGateway_IsAllowedWhenConfigured_ForLocalRuns()
    {
        var options = new ForgeOptions();
        options.AllowedApiBaseUrlPrefixes.Clear();
        options.AllowedApiBaseUrlPrefixes.Add("http://127.0.0.1:8090/ex/jira/");
        Assert.True(options.IsAllowedApiBaseUrl("http://127.0.0.1:8090/ex/jira/abc"));
        Assert.False(options.IsAllowedApiBaseUrl("https://api.atlassian.com/ex/jira/abc"));
        Assert.Empty(Validate(options));
    }

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("ari:cloud:ecosystem::app/not-a-uuid")]
    public void MalformedAppId_IsAConfigurationError(string appId) =>
        Assert.Contains(Validate(new ForgeOptions { AppId = appId }), e => e.ErrorMessage!.Contains("FORGE_APP_ID", StringComparison.Ordinal));

    [Fact]
    public void NonLoopbackHttpGatewayPrefix_IsAConfigurationError()
    {
        var options = new ForgeOptions();
        options.AllowedApiBaseUrlPrefixes.Add("http://gateway.example/");
        Assert.Contains(Validate(options), e => e.ErrorMessage!.Contains("FORGE_API_BASE_URLS", StringComparison.Ordinal));
    }

    private static List<ValidationResult> Validate(ForgeOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
