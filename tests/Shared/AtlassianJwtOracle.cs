using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ConnectTesting;

/// <summary>
/// Atlassian's own implementation (npm atlassian-jwt) as a test oracle: one long-lived node process
/// (tests/interop/oracle.mjs) answering JSON lines. Needs <c>npm ci --prefix tests/interop</c> (the test command does it).
/// </summary>
public sealed class AtlassianJwtOracle : IDisposable
{
    private readonly Process _node;
    private readonly Lock _lock = new();

    public AtlassianJwtOracle()
    {
        var dir = Path.Combine(RepositoryRoot(), "tests", "interop");
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "atlassian-jwt")))
        {
            throw new InvalidOperationException($"atlassian-jwt is not installed: run npm ci --prefix {dir}");
        }

        _node = Process.Start(new ProcessStartInfo("node", "oracle.mjs")
        {
            WorkingDirectory = dir,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("node did not start");
    }

    public (string Canonical, string Qsh) Canonical(string method, string url, string baseUrl)
    {
        var answer = Ask(new JsonObject { ["op"] = "canonical", ["method"] = method, ["url"] = url, ["baseUrl"] = baseUrl });
        return (answer["canonical"]!.GetValue<string>(), answer["qsh"]!.GetValue<string>());
    }

    /// <summary>Signs <paramref name="claims"/> with HS256; with a method and URL, the qsh is atlassian-jwt's for that request.</summary>
    public string Sign(JsonObject claims, string secret, string? method = null, string? url = null, string? baseUrl = null)
    {
        var request = new JsonObject { ["op"] = "sign", ["claims"] = claims, ["secret"] = secret };
        if (method is not null)
        {
            request["method"] = method;
            request["url"] = url;
            request["baseUrl"] = baseUrl;
        }

        return Ask(request)["token"]!.GetValue<string>();
    }

    /// <summary>Decodes and verifies an HS256 token and whether its qsh is the one atlassian-jwt computes for the request.</summary>
    public (JsonObject? Payload, bool QshMatches, string? Error) Verify(string token, string secret, string method, string url, string baseUrl)
    {
        var answer = Ask(new JsonObject { ["op"] = "verify", ["token"] = token, ["secret"] = secret, ["method"] = method, ["url"] = url, ["baseUrl"] = baseUrl });
        return answer["error"] is { } error
            ? (null, false, error.GetValue<string>())
            : (answer["payload"]!.AsObject(), answer["qshMatches"]!.GetValue<bool>(), null);
    }

    private JsonObject Ask(JsonObject request)
    {
        lock (_lock)
        {
            _node.StandardInput.WriteLine(request.ToJsonString());
            _node.StandardInput.Flush();
            var line = _node.StandardOutput.ReadLine() ?? throw new InvalidOperationException("oracle exited: " + _node.StandardError.ReadToEnd());
            var answer = JsonNode.Parse(line)!.AsObject();
            if (answer["error"] is { } e && request["op"]!.GetValue<string>() != "verify")
            {
                throw new InvalidOperationException("oracle error: " + e.GetValue<string>());
            }

            return answer;
        }
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ConnectApp.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("ConnectApp.sln not found above " + AppContext.BaseDirectory);
    }

    public void Dispose()
    {
        try
        {
            _node.StandardInput.Close();
            if (!_node.WaitForExit(5000))
            {
                _node.Kill();
            }
        }
        finally
        {
            _node.Dispose();
        }
    }
}

