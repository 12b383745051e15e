namespace AtlassianConnect.Tests;

public class QueryStringHashTests
{
    [Theory]
    [InlineData("GET", "/", null, "GET&/&")]
    [InlineData("post", "/installed", null, "POST&/installed&")]
    [InlineData("GET", "", null, "GET&/&")]
    [InlineData("GET", "/a/b/", null, "GET&/a/b&")]
    [InlineData("GET", "/a&b", null, "GET&/a%26b&")]
    [InlineData("GET", "/jira/rest/api/3/issue", "/jira", "GET&/rest/api/3/issue&")]
    [InlineData("GET", "/jira", "/jira/", "GET&/&")]
    [InlineData("GET", "/p?b=2&a=1", null, "GET&/p&a=1&b=2")]
    [InlineData("GET", "/p?a=2&a=1&a=10", null, "GET&/p&a=1,10,2")]
    [InlineData("GET", "/p?jwt=abc&x=1", null, "GET&/p&x=1")]
    [InlineData("GET", "/p?flag", null, "GET&/p&flag=")]
    [InlineData("GET", "/p?q=a+b&r=a%20b", null, "GET&/p&q=a%20b&r=a%20b")]
    [InlineData("GET", "/p?s=*~!'()", null, "GET&/p&s=%2A~%21%27%28%29")]
    [InlineData("GET", "/p?u=%C3%BC&e=%E2%82%AC", null, "GET&/p&e=%E2%82%AC&u=%C3%BC")]
    [InlineData("GET", "/p?c=a,b&d=%2C", null, "GET&/p&c=a%2Cb&d=%2C")]
    [InlineData("GET", "/p?a=1&&b=2#frag", null, "GET&/p&a=1&b=2")]
    public void CanonicalRequest_FollowsTheConnectRules(string method, string pathAndQuery, string? basePath, string expected) =>
        Assert.Equal(expected, QueryStringHash.CanonicalRequest(method, pathAndQuery, basePath));

    [Fact]
    public void CanonicalRequest_MatchesAtlassiansDocumentedExample() =>
        Assert.Equal(
            "GET&/path/to/service&first=param&repeated=parameter%201,parameter%202&zee_last=param",
            QueryStringHash.CanonicalRequest("GET", "/path/to/service?zee_last=param&repeated=parameter%201&first=param&repeated=parameter%202"));

    [Fact]
    public void Compute_IsHexSha256OfTheCanonicalRequest() =>
        // echo -n 'POST&/installed&' | sha256sum
        Assert.Equal("4a2e1de8ca74e6cafe8862d332fa3ac7a8e51e692bc6d798ea4dfedc14948bf4", QueryStringHash.Compute("POST", "/installed"));

    [Fact]
    public void Compute_DiffersWhenMethodPathOrQueryDiffers()
    {
        var baseline = QueryStringHash.Compute("GET", "/a?x=1");
        Assert.NotEqual(baseline, QueryStringHash.Compute("POST", "/a?x=1"));
        Assert.NotEqual(baseline, QueryStringHash.Compute("GET", "/b?x=1"));
        Assert.NotEqual(baseline, QueryStringHash.Compute("GET", "/a?x=2"));
        Assert.Equal(baseline, QueryStringHash.Compute("get", "/a/?x=1&jwt=ignored"));
    }
}
