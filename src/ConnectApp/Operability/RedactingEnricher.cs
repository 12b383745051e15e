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
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        foreach (var (name, value) in logEvent.Properties.ToList())
        {
            var redacted = Redact(name, value);
            if (!ReferenceEquals(redacted, value))
            {
                logEvent.AddOrUpdateProperty(new LogEventProperty(name, redacted));
            }
        }
    }

    private static LogEventPropertyValue Redact(string name, LogEventPropertyValue value)
    {
        if (SensitiveName().IsMatch(name))
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
