using System.Text;
using System.Text.Json.Nodes;
using AtlassianConnect.Outgoing;
using ConnectTesting;
using Microsoft.Extensions.Options;

namespace AtlassianConnect.Tests;

/// <summary>Our QSH and tokens against Atlassian's own implementation, the npm package atlassian-jwt.</summary>
public sealed class InteropTests(InteropTests.OracleFixture oracle) : IClassFixture<InteropTests.OracleFixture>
{
    public sealed class OracleFixture : IDisposable
    {
        public AtlassianJwtOracle Oracle { get; } = new();

        public void Dispose() => Oracle.Dispose();
    }

    public static TheoryData<string, string, string> GeneratedRequests()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (method, url, baseUrl) in RequestGenerator.Generate(seed: 20261122, count: 64))
        {
            data.Add(method, url, baseUrl);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(GeneratedRequests))]
    public void CanonicalRequestAndQsh_AreByteIdenticalToAtlassianJwt(string method, string url, string baseUrl)
    {
        var (canonical, qsh) = oracle.Oracle.Canonical(method, url, baseUrl);
        var uri = new Uri(url);
        var basePath = new Uri(baseUrl).AbsolutePath;
        Assert.Equal(canonical, QueryStringHash.CanonicalRequest(method, uri.PathAndQuery, basePath));
        Assert.Equal(qsh, QueryStringHash.Compute(method, uri.PathAndQuery, basePath));
    }

    [Fact]
    public void Generator_CoversTheHardCases()
    {
        var urls = RequestGenerator.Generate(20261122, 64).Select(r => r.Url + " " + r.Method).ToList();
        Assert.True(urls.Count >= 40);
        foreach (var needle in new[] { "+", "%2A", "~", "%20", "%C3", "%E2%82%AC", "=&", "/?", "/jira/", " get", " Post" })
        {
            Assert.Contains(urls, u => u.Contains(needle, StringComparison.Ordinal));
        }

        Assert.Contains(urls, u => u.Split('?').ElementAtOrDefault(1)?.Split('&').GroupBy(p => p.Split('=')[0]).Any(g => g.Count() > 1) == true);
    }

    [Theory]
    [InlineData("GET", "https://site.atlassian.net/rest/api/3/user?accountId=5b10a2844c20165700ede21g&expand=groups,applicationRoles", "https://site.atlassian.net")]
    [InlineData("POST", "https://site.atlassian.net/jira/rest/atlassian-connect/latest/report-accounts", "https://site.atlassian.net/jira")]
    [InlineData("PUT", "https://site.atlassian.net/rest/servicedeskapi/organization/12/property/my%20key?x=a+b&x=%2A", "https://site.atlassian.net/")]
    public async Task OutgoingTokens_VerifyWithAtlassianJwt(string method, string url, string baseUrl)
    {
        var secret = "s3cr3t-" + Convert.ToBase64String(Encoding.UTF8.GetBytes(url))[..20];
        var tenant = new ConnectTenant(Guid.NewGuid(), "client-1", secret, new Uri(baseUrl), ConnectTenantState.Enabled);
        var capture = new CapturingHandler();
        var options = Options.Create(new ConnectOptions { AppKey = "com.example.app", BaseUrl = new Uri("https://app.example.com") });
        using var client = new HttpClient(new ConnectSigningHandler(options, TimeProvider.System) { InnerHandler = capture });
        using var request = new HttpRequestMessage(new HttpMethod(method), url).ForTenant(tenant);
        using var _ = await client.SendAsync(request);

        var token = capture.Last!.Headers.Authorization!.Parameter!;
        Assert.Equal("JWT", capture.Last.Headers.Authorization.Scheme);
        var (payload, qshMatches, error) = oracle.Oracle.Verify(token, secret, method, capture.Last.RequestUri!.ToString(), baseUrl);
        Assert.Null(error);
        Assert.True(qshMatches);
        Assert.Equal("com.example.app", payload!["iss"]!.GetValue<string>());
        Assert.Equal(180, payload["exp"]!.GetValue<long>() - payload["iat"]!.GetValue<long>());
    }

    [Fact]
    public void OutgoingTokens_WithAnotherSecret_FailVerificationInAtlassianJwt()
    {
        var claims = ConnectJwt.RequestClaims("com.example.app", QueryStringHash.Compute("GET", "/rest/api/3/myself"), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(3));
        var token = ConnectJwt.CreateSymmetric(claims, "the-right-secret-the-right-secret");
        var (_, _, error) = oracle.Oracle.Verify(token, "a-wrong-secret-a-wrong-secret-xx", "GET", "https://s.atlassian.net/rest/api/3/myself", "https://s.atlassian.net");
        Assert.NotNull(error);
    }

    [Fact]
    public void TokensSignedByAtlassianJwt_CarryTheQshWeCompute()
    {
        var token = oracle.Oracle.Sign(new JsonObject { ["iss"] = "client", ["iat"] = 1, ["exp"] = 2 }, "secret-secret-secret-secret-secret", "GET", "https://app.example.com/api/x?b=1&a=%20", "https://app.example.com");
        var payload = JsonNode.Parse(Base64UrlDecode(token.Split('.')[1]))!;
        Assert.Equal(QueryStringHash.Compute("GET", "/api/x?b=1&a=%20"), payload["qsh"]!.GetValue<string>());
    }

    private static string Base64UrlDecode(string s) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(s.Replace('-', '+').Replace('_', '/').PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=')));

    private sealed class CapturingHandler : HttpMessageHandler
    {
        public HttpRequestMessage? Last { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Last = request;
            return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
        }
    }
}

/// <summary>Deterministic generator of awkward requests: repeated and unsorted params, spaces, +, *, ~, reserved and non-ASCII characters, empty values, params without '=', trailing slashes, context paths, mixed-case methods.</summary>
internal static class RequestGenerator
{
    private static readonly string[] Methods = ["GET", "get", "POST", "Post", "PUT", "delete", "PATCH", "head"];
    private static readonly string[] Bases = ["https://app.example.com", "https://app.example.com/", "https://site.atlassian.net/jira", "https://site.atlassian.net/jira/", "https://site.atlassian.net/wiki"];
    private static readonly string[] Paths = ["", "/", "/rest/api/3/issue", "/rest/api/3/issue/", "/a/b/c", "/with%20space/x", "/p%26q", "/user%2Bplus", "/~tilde/%2Astar", "/%C3%BCber", "/a-b_c.d~e", "/x:y@z"];
    private static readonly string[] Names = ["a", "B", "z", "_x", "a%20b", "q%2B", "%C3%BC", "%E5%90%8D", "~t", "%2As", "x.y", "expand", "accountId", "jwt", "A1", "lic", "cp"];
    private static readonly string[] Values =
    [
        "", "1", "hello%20world", "hello+world", "a%2Bb", "%2A", "*", "~", "%21%27%28%29", "%C3%A4", "%E2%82%AC", "%E6%97%A5%E6%9C%AC", "a%2Cb", "a,b", "%3D", "%26",
        "%25", "%2F", "path/like", "x%3Ay", "5b10a2844c20165700ede21g", "true", "-1", "1.5", "%5B%5D", "%F0%9F%98%80",
    ];

    public static IEnumerable<(string Method, string Url, string BaseUrl)> Generate(int seed, int count)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var baseUrl = Bases[random.Next(Bases.Length)];
            var basePath = new Uri(baseUrl).AbsolutePath.TrimEnd('/');
            var path = Paths[random.Next(Paths.Length)];
            var query = new List<string>();
            var n = random.Next(0, 7);
            for (var p = 0; p < n; p++)
            {
                var name = Names[random.Next(Names.Length)];
                var shape = random.Next(10);
                query.Add(shape switch
                {
                    0 => name, // no '='
                    1 => name + "=", // empty value
                    _ => name + "=" + Values[random.Next(Values.Length)],
                });
                if (random.Next(4) == 0)
                {
                    query.Add(name + "=" + Values[random.Next(Values.Length)]); // repeated
                }
            }

            var hostAndBase = new Uri(baseUrl).GetLeftPart(UriPartial.Authority) + basePath;
            var url = hostAndBase + (path.Length == 0 && query.Count > 0 ? "/" : path) + (query.Count > 0 ? "?" + string.Join("&", query) : string.Empty);
            yield return (Methods[random.Next(Methods.Length)], url, baseUrl);
        }
    }
}
