using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Serilog.Core;
using Serilog.Events;

namespace ConnectApp.Operability;

/// <summary>
/// First half of log redaction, on the event itself so the rendered message and the properties agree: a property
/// whose name says secret, password, token, authorization or jwt is masked whole, at any depth; every other string
/// value goes through <see cref="RedactingFormatter.Redact"/>. The formatter is the second half (exceptions, literal text).
/// </summary>
internal sealed partial class RedactingEnricher : ILogEventEnricher
{
    /// <summary>Property names come from message templates and scopes, a small set: each is matched once (bounded, in case).</summary>
    private const int MaxRememberedNames = 4096;

    private static readonly ConcurrentDictionary<string, bool> SensitiveNames = new(StringComparer.Ordinal);

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        List<LogEventProperty>? changed = null; // most events (the request line) change nothing: no copy of the properties
        foreach (var (name, value) in logEvent.Properties)
        {
            var redacted = Redact(name, value);
            if (!ReferenceEquals(redacted, value))
            {
                (changed ??= []).Add(new LogEventProperty(name, redacted));
            }
        }

        if (changed is not null)
        {
            foreach (var property in changed)
            {
                logEvent.AddOrUpdateProperty(property);
            }
        }
    }

    internal static bool IsSensitiveName(string name)
    {
        if (SensitiveNames.TryGetValue(name, out var sensitive))
        {
            return sensitive;
        }

        sensitive = SensitiveName().IsMatch(name);
        if (SensitiveNames.Count < MaxRememberedNames)
        {
            SensitiveNames.TryAdd(name, sensitive);
        }

        return sensitive;
    }

    private static LogEventPropertyValue Redact(string name, LogEventPropertyValue value)
    {
        if (IsSensitiveName(name))
        {
            return new ScalarValue(RedactingFormatter.Mask);
        }

        switch (value)
        {
            case ScalarValue { Value: string s }:
                var clean = RedactingFormatter.Redact(s);
                return clean == s ? value : new ScalarValue(clean);
            case StructureValue structure:
                return new StructureValue(structure.Properties.Select(p => new LogEventProperty(p.Name, Redact(p.Name, p.Value))), structure.TypeTag);
            case SequenceValue sequence:
                return new SequenceValue(sequence.Elements.Select(e => Redact(string.Empty, e)));
            case DictionaryValue dictionary:
                return new DictionaryValue(dictionary.Elements.Select(kv =>
                    new KeyValuePair<ScalarValue, LogEventPropertyValue>(kv.Key, Redact(kv.Key.Value?.ToString() ?? string.Empty, kv.Value))));
            default:
                return value;
        }
    }

    [GeneratedRegex("secret|password|passwd|token|authorization|apikey|api_key|^jwt$|credential", RegexOptions.IgnoreCase)]
    private static partial Regex SensitiveName();
}
