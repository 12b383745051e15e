using System.Buffers;
using System.Text.Json;
using ConnectApp.Problems;

namespace ConnectApp.Api;

/// <summary>
/// The one gate for input the database cannot store, before any endpoint sees it: the NUL character (PostgreSQL
/// text and jsonb refuse U+0000) in the query or any JSON string, and JSON numbers beyond what .NET's decimal (and
/// PostgreSQL's numeric as we use it) holds. Refused with a coded 400; nothing runs, so nothing changes. (A NUL in the
/// path never gets this far: Kestrel refuses the request line itself.)
/// </summary>
internal static class InputGuard
{
    public static readonly ProblemType NulCharacter = new(400, "input.nul_character");
    public static readonly ProblemType NumberOutOfRange = new(400, "input.number_out_of_range");

    /// <summary>JSON bodies larger than this are left to the endpoint's own limits (the API's largest, a 10,000-record bulk edit, is far below).</summary>
    public const int MaxScannedBody = 8 * 1024 * 1024;

    public static IApplicationBuilder Use(IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (AppRoutes.IsApiOrLifecycle(context.Request.Path) && (Refusal(context.Request) ?? await BodyRefusalAsync(context.Request)) is { } problem)
        {
            await ProblemWriter.WriteAsync(context, problem);
            return;
        }

        await next(context);
    });

    private static AppProblem? Refusal(HttpRequest request)
    {
        foreach (var (name, values) in request.Query)
        {
            if (name.Contains('\0', StringComparison.Ordinal) || values.Any(v => v?.Contains('\0', StringComparison.Ordinal) == true))
            {
                return NulCharacter.Problem($"The query parameter '{name.Replace("\0", string.Empty, StringComparison.Ordinal)}' contains the NUL character (U+0000), which cannot be stored.");
            }
        }

        return null;
    }

    private static async Task<AppProblem?> BodyRefusalAsync(HttpRequest request)
    {
        if (!request.HasJsonContentType() || request.ContentLength is 0 or > MaxScannedBody)
        {
            return null;
        }

        request.EnableBuffering();
        var buffer = new ArrayBufferWriter<byte>();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, request.HttpContext.RequestAborted)) > 0)
            {
                if (buffer.WrittenCount + read > MaxScannedBody)
                {
                    request.Body.Position = 0;
                    return null;
                }

                buffer.Write(chunk.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        request.Body.Position = 0;
        return Scan(buffer.WrittenSpan);
    }

    /// <summary>The first unstorable value in a JSON document; malformed JSON is left to the binder's own 400.</summary>
    internal static AppProblem? Scan(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256, CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.String or JsonTokenType.PropertyName when reader.ValueIsEscaped && reader.GetString()!.Contains('\0', StringComparison.Ordinal):
                        return NulCharacter.Problem($"The JSON body contains the NUL character (U+0000) at {Where(reader)}, which cannot be stored.");
                    case JsonTokenType.Number when !reader.TryGetDecimal(out _):
                        return NumberOutOfRange.Problem($"The number at {Where(reader)} is out of range: numbers must lie within ±79,228,162,514,264,337,593,543,950,335.");
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return null;
    }

    private static string Where(Utf8JsonReader reader) => $"byte {reader.TokenStartIndex.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
