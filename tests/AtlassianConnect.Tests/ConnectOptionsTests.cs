using AtlassianConnect.Lifecycle;

namespace AtlassianConnect.Tests;

public class ConnectOptionsTests
{
    private static ConnectOptions Options(params string[] suffixes)
    {
        var o = new ConnectOptions { AppKey = "k", BaseUrl = new Uri("https://app.example.com") };
        foreach (var s in suffixes)
        {
            o.AllowedHostSuffixes.Add(s);
        }

        return o;
    }

    [Theory]
    [InlineData("https://acme.atlassian.net", true)]
    [InlineData("https://acme.atlassian.net/", true)]
    [InlineData("https://ACME.Atlassian.NET/jira", true)]
    [InlineData("https://atlassian.net", false)] // the bare suffix is not a site
    [InlineData("https://evilatlassian.net", false)]
    [InlineData("https://acme.atlassian.net.evil.com", false)]
    [InlineData("http://acme.atlassian.net", false)] // https only off loopback
    [InlineData("https://user:pw@acme.atlassian.net", false)]
    [InlineData("https://acme.atlassian.net/?x=1", false)]
    [InlineData("ftp://acme.atlassian.net", false)]
    [InlineData("not a url", false)]
    [InlineData(null, false)]
    public void TenantBaseUrl_MustBeHttpsOnAnAllowedSuffix(string? baseUrl, bool allowed) =>
        Assert.Equal(allowed, Options(".atlassian.net").IsAllowedTenantBaseUrl(baseUrl));

    [Theory]
    [InlineData("http://127.0.0.1:8090/site/demo", true)]
    [InlineData("http://127.0.0.2:8090/site/demo", false)] // exact host entries match exactly
    [InlineData("http://localhost:8090", false)]
    public void ExactHostEntries_AllowLoopbackOverHttp(string baseUrl, bool allowed) =>
        Assert.Equal(allowed, Options(".atlassian.net", "127.0.0.1").IsAllowedTenantBaseUrl(baseUrl));

    [Theory]
    [InlineData("connect/prod/abc123", true)]
    [InlineData("simulator/0a1b2c", true)]
    [InlineData("abc.def-ghi_jkl", true)]
    [InlineData("../../etc/passwd", false)]
    [InlineData("/absolute", false)]
    [InlineData("a?b=c", false)]
    [InlineData("a#b", false)]
    [InlineData("a%2F..", false)]
    [InlineData("http://evil.example/x", false)]
    [InlineData("", false)]
    public void Kid_MustBeASafePathSegment(string kid, bool wellFormed) =>
        Assert.Equal(wellFormed, InstallKeyProvider.IsWellFormedKid(kid));

    [Fact]
    public void Kid_LongerThan256Characters_IsRefused() =>
        Assert.False(InstallKeyProvider.IsWellFormedKid(new string('a', 257)));
}
