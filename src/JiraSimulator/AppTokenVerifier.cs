using AtlassianConnect;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace JiraSimulator;

/// <summary>Checks the app's JWT on a call to a simulated site, as Jira does: HS256 with the site's secret, iss = app key, qsh of the call.</summary>
public static class AppTokenVerifier
{
    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>Null when the request carries a valid app token for <paramref name="site"/>; else why not.</summary>
    public static async Task<string?> VerifyAsync(HttpContext context, SimulatedSite site)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("JWT ", StringComparison.Ordinal) || site.SharedSecret is null || site.AppKey is null)
        {
            return "missing token";
        }

        var token = header[4..];
        var result = await Handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            IssuerSigningKey = new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(site.SharedSecret)),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ValidIssuer = site.AppKey,
            ValidateAudience = false,
            ClockSkew = TimeSpan.FromSeconds(30),
        });
        if (!result.IsValid)
        {
            return "invalid token: " + result.Exception?.GetType().Name;
        }

        var raw = RequestTarget.Raw(context);
        var expected = QueryStringHash.Compute(context.Request.Method, raw, site.BaseUrl.AbsolutePath);
        return result.Claims.TryGetValue("qsh", out var qsh) && (string)qsh == expected ? null : "qsh mismatch";
    }
}
