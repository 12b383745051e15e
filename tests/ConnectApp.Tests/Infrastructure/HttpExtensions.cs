using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ConnectApp.Tests.Infrastructure;

internal static class HttpExtensions
{
    public static async Task<JsonObject> OkJsonAsync(this Task<HttpResponseMessage> send, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await send;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonNode> OkJsonAsync(this Task<HttpResponseMessage> send, HttpStatusCode expected, bool array)
    {
        using var response = await send;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        var node = JsonNode.Parse(text)!;
        Assert.Equal(array, node is JsonArray);
        return node;
    }

    public static async Task<JsonObject> ProblemAsync(this Task<HttpResponseMessage> send, HttpStatusCode expected, string code)
    {
        using var response = await send;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(text)!.AsObject();
        Assert.Equal(code, problem["code"]?.GetValue<string>());
        return problem;
    }

    public static Task<HttpResponseMessage> SendJsonAsync(this HttpClient client, HttpMethod method, string url, object? body, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = body is JsonNode node
                ? new StringContent(node.ToJsonString(), System.Text.Encoding.UTF8, "application/json")
                : JsonContent.Create(body, options: new JsonSerializerOptions(JsonSerializerDefaults.Web));
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return client.SendAsync(request);
    }

    public static async Task<(JsonObject Body, string ETag)> GetWithETagAsync(this HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return (JsonNode.Parse(text)!.AsObject(), response.Headers.ETag!.ToString());
    }
}
