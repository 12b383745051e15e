using System.Diagnostics;
using System.Text.Json.Nodes;
using ConnectTesting;

namespace ConnectApp.Tests;

/// <summary>
/// forge/manifest.yml — the app registered as Connect on Forge — validated by Atlassian's own validator (npm
/// @forge/manifest: its JSON schema and semantic checks), and kept in step with the Connect descriptor.
/// </summary>
public sealed class ForgeManifestTests
{
    private static readonly string Root = AtlassianJwtOracle.RepositoryRoot();

    private static async Task<JsonObject> ValidateAsync(string manifestPath)
    {
        var start = new ProcessStartInfo("node", ["validate-manifest.mjs", manifestPath])
        {
            WorkingDirectory = Path.Combine(Root, "tests", "interop"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        var output = await node.StandardOutput.ReadToEndAsync();
        var error = await node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, $"the validator failed to run: {error}");
        return JsonNode.Parse(output)!.AsObject();
    }

    [Fact]
    public async Task Manifest_IsValid_ForAtlassiansValidator()
    {
        var result = await ValidateAsync(Path.Combine(Root, "forge", "manifest.yml"));
        Assert.True(result["valid"]!.GetValue<bool>(), "forge/manifest.yml is not valid: " + result["errors"]!.ToJsonString());
    }

    [Fact]
    public async Task Validator_RefusesAManifestWhoseConnectRemoteIsMissing()
    {
        var broken = Path.Combine(Path.GetTempPath(), $"manifest-{Guid.NewGuid():N}.yml");
        var text = await File.ReadAllTextAsync(Path.Combine(Root, "forge", "manifest.yml"));
        await File.WriteAllTextAsync(broken, text.Replace("remote: connectapp\n    authentication", "authentication", StringComparison.Ordinal));
        try
        {
            var result = await ValidateAsync(broken);
            Assert.False(result["valid"]!.GetValue<bool>());
            Assert.NotEmpty(result["errors"]!.AsArray());
        }
        finally
        {
            File.Delete(broken);
        }
    }

    [Fact]
    public async Task Manifest_DeclaresTheDescriptorsModules_UnderTheSameKeys_AndTheProductionAppKey()
    {
        var manifest = (await ValidateAsync(Path.Combine(Root, "forge", "manifest.yml")))["manifest"]!;
        var descriptor = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Root, "atlassian-connect.json")))!;
        var appJson = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Root, "app.json")))!;

        Assert.Equal(appJson["env"]!["APP_KEY"]!["value"]!.GetValue<string>(), manifest["app"]!["connect"]!["key"]!.GetValue<string>());
        var connectModules = manifest["connectModules"]!.AsObject();
        foreach (var (type, modules) in descriptor["modules"]!.AsObject())
        {
            var declared = connectModules["jira:" + type]?.AsArray().Select(m => m!["key"]!.GetValue<string>()).ToHashSet() ?? [];
            foreach (var module in modules is JsonArray list ? list : [modules])
            {
                var key = module!["key"]!.GetValue<string>();
                Assert.True(declared.Contains(key), $"descriptor module {type}/{key} is missing from forge/manifest.yml connectModules.jira:{type}");
            }
        }

        var lifecycle = connectModules["jira:lifecycle"]![0]!;
        foreach (var (eventName, url) in descriptor["lifecycle"]!.AsObject())
        {
            Assert.Equal(url!.GetValue<string>(), lifecycle[eventName]!.GetValue<string>());
        }
    }
}
