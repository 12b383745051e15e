using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Compact;

namespace ConnectApp.Operability;

/// <summary>
/// The logging pipeline's redaction: every event is rendered to JSON, then JWTs, credentials in headers, URLs and
/// connection strings, named secrets and email addresses are replaced before a byte reaches a sink. Call sites
/// do not have to remember; whatever they log passes through here.
/// </summary>
internal sealed partial class RedactingFormatter(ITextFormatter inner) : ITextFormatter
{
    public const string Mask = "[redacted]";

    public static RedactingFormatter Create() => new(new RenderedCompactJsonFormatter());

    public void Format(LogEvent logEvent, TextWriter output)
    {
        using var buffer = new StringWriter();
        inner.Format(logEvent, buffer);
        output.Write(Redact(buffer.ToString()));
    }

    /// <summary>
    /// Every pattern below, each only when the text holds what any match of it must contain (a literal the regex
    /// engine cannot search for by itself, as most patterns start with a character class): most log lines hold none,
    /// and this runs for every line. <see cref="RedactEveryPattern"/> is the same without the checks; a property test
    /// holds the two equal.
    /// </summary>
    public static string Redact(string text)
    {
        var span = text.AsSpan();
        if (!Ascii.IsValid(span))
        {
            // The regexes' case-insensitivity knows more than ASCII (the Kelvin sign is a 'k' to them): check nothing.
            return RedactEveryPattern(text);
        }

        if (span.Contains("eyJ", StringComparison.Ordinal))
        {
            text = Jwt().Replace(text, Mask);
        }

        if (text.AsSpan().Contains("cat_", StringComparison.Ordinal))
        {
            text = ApiToken().Replace(text, Mask);
        }

        if (text.AsSpan().IndexOfAny(AuthorizationSchemes) >= 0)
        {
            text = AuthorizationValue().Replace(text, m => m.Groups[1].Value + Mask);
            text = JwtParameter().Replace(text, m => m.Groups[1].Value + Mask);
        }

        if (text.AsSpan().Contains("://", StringComparison.Ordinal))
        {
            text = UrlCredentials().Replace(text, m => m.Groups[1].Value + Mask + "@");
        }

        if (text.AsSpan().IndexOfAny(SecretWords) >= 0)
        {
            text = ConnectionStringPassword().Replace(text, m => m.Groups[1].Value + Mask);
            text = SecretProperty().Replace(text, m => m.Groups[1].Value + Mask + "\"");
        }

        if (MayHoldEmail(text))
        {
            text = Email().Replace(text, Mask);
        }

        return text;
    }

    /// <summary>An '@' right after a character an address's local part may end with (the JSON log's own "@t" keys follow a quote).</summary>
    private static bool MayHoldEmail(string text)
    {
        for (var at = text.IndexOf('@', StringComparison.Ordinal); at >= 0; at = text.IndexOf('@', at + 1))
        {
            if (at > 0 && EmailLocalPart.Contains(text[at - 1]))
            {
                return true;
            }
        }

        return false;
    }

    private static readonly SearchValues<char> EmailLocalPart = SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-");

    /// <summary>Every pattern, unconditionally: the reference <see cref="Redact"/> must equal.</summary>
    internal static string RedactEveryPattern(string text)
    {
        text = Jwt().Replace(text, Mask);
        text = ApiToken().Replace(text, Mask);
        text = AuthorizationValue().Replace(text, m => m.Groups[1].Value + Mask);
        text = JwtParameter().Replace(text, m => m.Groups[1].Value + Mask);
        text = UrlCredentials().Replace(text, m => m.Groups[1].Value + Mask + "@");
        text = ConnectionStringPassword().Replace(text, m => m.Groups[1].Value + Mask);
        text = SecretProperty().Replace(text, m => m.Groups[1].Value + Mask + "\"");
        text = Email().Replace(text, Mask);
        return text;
    }

    // What AuthorizationValue (a scheme) or JwtParameter ("jwt=") must contain, case-insensitively.
    private static readonly SearchValues<string> AuthorizationSchemes = SearchValues.Create(["jwt", "bearer", "basic"], StringComparison.OrdinalIgnoreCase);

    // What ConnectionStringPassword or SecretProperty must contain (one of their keywords), case-insensitively.
    private static readonly SearchValues<string> SecretWords = SearchValues.Create(
        ["password", "pwd", "secret", "token", "apikey", "api_key", "authorization", "jwt"], StringComparison.OrdinalIgnoreCase);

    // Three base64url segments whose first decodes to a JSON object ("eyJ" is '{"').
    [GeneratedRegex(@"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")]
    private static partial Regex Jwt();

    // The app's own API tokens (ApiTokens/ApiTokenValue), wherever one appears, not only after "Bearer".
    [GeneratedRegex(@"cat_[0-9a-f]{32}_[0-9a-f]{32}_[A-Za-z0-9_-]{43}")]
    private static partial Regex ApiToken();

    [GeneratedRegex(@"((?:JWT|Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{16,}", RegexOptions.IgnoreCase)]
    private static partial Regex AuthorizationValue();

    [GeneratedRegex(@"([?&]jwt=)[^&\s""]+", RegexOptions.IgnoreCase)]
    private static partial Regex JwtParameter();

    [GeneratedRegex(@"((?:postgres(?:ql)?|amqps?|https?|redis)://[^:/@\s""]+:)[^@\s""]+@", RegexOptions.IgnoreCase)]
    private static partial Regex UrlCredentials();

    // key=value and key: value forms (connection strings, ToString() of objects): password=..., sharedSecret = ...
    [GeneratedRegex(@"((?:password|pwd|secret|token|apikey|api_key)[A-Za-z_]*\s*[=:]\s*)(?!\[redacted\])[^;,}&""\s\\]+", RegexOptions.IgnoreCase)]
    private static partial Regex ConnectionStringPassword();

    [GeneratedRegex(@"(""[A-Za-z_]*(?:secret|password|token|authorization|apikey|api_key|jwt)[A-Za-z_]*""\s*:\s*"")(?:[^""\\]|\\.)*""", RegexOptions.IgnoreCase)]
    private static partial Regex SecretProperty();

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")]
    private static partial Regex Email();
}
