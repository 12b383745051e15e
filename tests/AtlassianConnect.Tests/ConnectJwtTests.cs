namespace AtlassianConnect.Tests;

public class ConnectJwtTests
{
    [Theory]
    [InlineData("short")] // Jira chooses the secret; a short one must still work (IdentityModel would refuse it)
    [InlineData("a-typical-connect-shared-secret-of-sixty-four-characters-xxxxxxx")]
    public void SignedToken_VerifiesWithTheSameSecretOnly(string secret)
    {
        var token = ConnectJwt.CreateSymmetric(ConnectJwt.RequestClaims("iss", "qsh", DateTimeOffset.UtcNow, TimeSpan.FromMinutes(3)), secret);
        var parts = token.Split('.');
        Assert.True(ConnectJwt.HasValidSignature(parts[0] + "." + parts[1], parts[2], secret));
        Assert.False(ConnectJwt.HasValidSignature(parts[0] + "." + parts[1], parts[2], secret + "x"));
        Assert.False(ConnectJwt.HasValidSignature(parts[0] + "." + parts[1] + "x", parts[2], secret));
        Assert.False(ConnectJwt.HasValidSignature(parts[0] + "." + parts[1], parts[2][..^2], secret));
        Assert.False(ConnectJwt.HasValidSignature(parts[0] + "." + parts[1], "!!notbase64!!", secret));
    }
}
