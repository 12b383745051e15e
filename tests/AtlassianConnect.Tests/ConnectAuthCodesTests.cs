using System.Text.RegularExpressions;
using AtlassianConnect.Authentication;
using ConnectTesting;

namespace AtlassianConnect.Tests;

/// <summary>
/// <see cref="ConnectAuthCodes"/> is what hosts publish as the authentication answers of every protected operation;
/// the handlers write their codes as literals, so this keeps the two lists from drifting apart.
/// </summary>
public sealed partial class ConnectAuthCodesTests
{
    [Theory]
    [InlineData("jwt", "Authentication/ConnectJwtHandler.cs")]
    [InlineData("fit", "Forge/ForgeInvocationTokenHandler.cs")]
    public void EveryCodeAHandlerAnswersWith_IsListed(string prefix, string handler)
    {
        var source = File.ReadAllText(Path.Combine(AtlassianJwtOracle.RepositoryRoot(), "src", "AtlassianConnect.AspNetCore", handler));
        var used = CodeLiteral().Matches(source).Select(m => m.Groups[1].Value).Where(c => c.StartsWith(prefix + ".", StringComparison.Ordinal)).ToHashSet();
        var listed = (prefix == "jwt" ? ConnectAuthCodes.ConnectJwt : ConnectAuthCodes.ForgeInvocationToken).Select(c => c.Code).ToHashSet();

        Assert.NotEmpty(used);
        Assert.Empty(used.Except(listed));
        Assert.Empty(listed.Except(used));
    }

    [GeneratedRegex("\"((?:jwt|fit)\\.[a-z_]+)\"")]
    private static partial Regex CodeLiteral();
}
