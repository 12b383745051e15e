using ConnectApp.Operability;
using CsCheck;

namespace ConnectApp.Tests;

/// <summary>
/// The redaction every log line goes through skips a pattern when the line cannot hold a match of it (the fast path);
/// generated lines built from the fragments the patterns look for — secrets, tokens, emails, URLs with credentials,
/// case variants, non-ASCII look-alikes — must come out exactly as with every pattern applied.
/// </summary>
public sealed class LogRedactionTests
{
    private static readonly string[] Fragments =
    [
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "eyJ", ".", "cat_0123456789abcdef0123456789abcdef_0123456789abcdef0123456789abcdef_abcdefghijABCDEFGHIJ0123456789-_abcdefghijk",
        "cat_", "Bearer ", "bearer abcdefghijklmnopqrstuvwxyz", "JWT ", "jwt", "Basic dXNlcjpwYXNzd29yZDEyMzQ1Ng==", "?jwt=abc.def.ghi", "&JWT=x",
        "postgres://app:app_pw@db:5432/x", "amqps://u:p@host/", "https://user:secret@example.com/", "://", "Password=hunter2;", "pwd: x",
        "\"sharedSecret\":\"s3cr3t\"", "\"apiToken\": \"v\"", "\"Authorization\":\"JWT abc\"", "secret", "TOKEN", "api_key=1", "ApiKey:2",
        "user@example.com", "a.b+c@sub.example.org", "@", "@x.io", " ", "\"", ":", "=", ";", ",", "\\\"", "{", "}", "\n",
        "to\u212Aen=abc", "api\u212Aey: q", "\u017Fecret=1", "é", "ü@ex.com", "Ω",
    ];

    // Whole matches of the key/value patterns for every keyword they know, in JSON and key=value form, any case.
    private static readonly string[] Keywords = ["password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "authorization", "jwt", "credential"];

    private static readonly Gen<string> KeyValue =
        Gen.Select(Gen.OneOf(Keywords.Select(Gen.Const).ToArray()), Gen.Bool, Gen.Int[0, 2], (keyword, upper, form) =>
        {
            var key = upper ? keyword.ToUpperInvariant() : keyword;
            return form switch
            {
                0 => $"\"x{key}\":\"value\"",
                1 => $"{key}=value;",
                _ => $"{key}: value",
            };
        });

    [Fact]
    public void Redact_EqualsEveryPatternApplied_ForGeneratedLines()
    {
        var line = Gen.Frequency(
                (6, Gen.OneOf(Fragments.Select(Gen.Const).ToArray())),
                (2, KeyValue),
                (2, Gen.String[Gen.Char.AlphaNumeric, 0, 12]),
                (1, Gen.String))
            .Array[0, 16]
            .Select(parts => string.Concat(parts));
        line.Sample(text => Assert.Equal(RedactingFormatter.RedactEveryPattern(text), RedactingFormatter.Redact(text)), iter: 20_000);
    }

    [Theory]
    [InlineData("HTTP \"GET\" \"/api/whoami\" responded 200 in 1.2 ms")]
    [InlineData("{\"@t\":\"2026-11-24T09:00:00Z\",\"@m\":\"login by cara@acme.example with Bearer abcdefghijklmnopqrstu\"}")]
    [InlineData("Password=hunter2;Host=db")]
    [InlineData("to\u212Aen=abc")]
    public void Redact_KnownLines_MatchTheReference(string text) =>
        Assert.Equal(RedactingFormatter.RedactEveryPattern(text), RedactingFormatter.Redact(text));
}
