using ConnectApp.Fields;
using CsvHelper;

namespace ConnectApp.Csv;

/// <summary>
/// The file format shared by export and import: fixed columns first (the JSM identity, then name; customers also
/// email and organizations), then one column per field, headed by the field key, cells in FieldValues' text form.
/// UTF-8, comma-separated, RFC 4180 quoting; a byte-order mark is accepted on import and not written on export.
/// </summary>
internal static class CsvFormat
{
    public const string JsmId = "jsmId";
    public const string AccountId = "accountId";
    public const string Email = "email";
    public const string Name = "name";
    public const string Organizations = "organizations";
    public const string ContentType = "text/csv";

    public static string Identity(RecordEntity entity) => entity == RecordEntity.Organization ? JsmId : AccountId;

    public static IReadOnlyList<string> FixedColumns(RecordEntity entity) =>
        entity == RecordEntity.Organization ? [JsmId, Name] : [AccountId, Email, Name, Organizations];

    /// <summary>Reading: comma-separated (never guessed), header first, values as they are; malformed quoting is reported, not fatal.</summary>
    public static CsvReaderOptions ReaderOptions(Action<CsvMalformedRecord>? onMalformed = null) => new()
    {
        Separator = ',',
        HasHeader = true,
        SkipEmptyLines = true,
        TrimWhitespace = false,
        DetectSeparatorHint = false,
        MalformedData = CsvMalformedDataHandling.Recover,
        FieldCountMismatch = CsvFieldCountHandling.Allow, // checked per row, so a short row is reported, not skipped
        OnMalformedRecord = onMalformed,
        MaxRecordSize = ImportLimits.MaxRecordBytes, // an unclosed quote must not swallow the file into memory
        IncludeValuesInExceptions = false, // cell contents stay out of exception messages and so out of logs
    };

    /// <summary>
    /// Writing: RFC 4180, UTF-8 without a byte-order mark. Cells a spreadsheet would run as formulas are guarded by
    /// <see cref="FormulaGuard"/> (a leading apostrophe, removed again on import), so an export is safe to open and
    /// still reads back identically.
    /// </summary>
    public static CsvWriterOptions WriterOptions() => new()
    {
        Separator = ',',
        Injection = CsvInjection.None,
        WriteByteOrderMark = false,
    };
}

/// <summary>An import file's header, resolved against the entity's fields: which column holds what.</summary>
internal sealed class ImportHeader
{
    private ImportHeader(string[] names, int identity, int? name, int? email, int? organizations, IReadOnlyList<(int Index, FieldDefinition Field)> fields)
    {
        Names = names;
        IdentityIndex = identity;
        NameIndex = name;
        EmailIndex = email;
        OrganizationsIndex = organizations;
        Fields = fields;
    }

    public string[] Names { get; }

    public int IdentityIndex { get; }

    public int? NameIndex { get; }

    public int? EmailIndex { get; }

    public int? OrganizationsIndex { get; }

    public IReadOnlyList<(int Index, FieldDefinition Field)> Fields { get; }

    /// <summary>Resolves <paramref name="header"/>; errors are keyed by column name, empty when the header is usable.</summary>
    public static (ImportHeader? Header, Dictionary<string, string[]> Errors) Resolve(RecordEntity entity, IEnumerable<string> header, FieldCatalog catalog)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var names = header.Select((n, i) => i == 0 ? n.TrimStart('\uFEFF').Trim() : n.Trim()).ToArray();
        var fixedColumns = CsvFormat.FixedColumns(entity);
        var fields = new List<(int, FieldDefinition)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < names.Length; i++)
        {
            var name = names[i];
            if (name.Length == 0)
            {
                errors[$"column {i + 1}"] = ["has no name"];
            }
            else if (!seen.Add(name))
            {
                errors[name] = ["appears more than once"];
            }
            else if (fixedColumns.Contains(name, StringComparer.Ordinal))
            {
                continue;
            }
            else if (catalog.ByKey(name) is not { } field)
            {
                errors[name] = [$"is not a field of {(entity == RecordEntity.Organization ? "organizations" : "customers")}"];
            }
            else if (field.Archived)
            {
                errors[name] = ["is an archived field and cannot be imported"];
            }
            else
            {
                fields.Add((i, field));
            }
        }

        var identity = Array.IndexOf(names, CsvFormat.Identity(entity));
        if (identity < 0)
        {
            errors[CsvFormat.Identity(entity)] = ["is required: the column that matches rows to records"];
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        int? Index(string column) => Array.IndexOf(names, column) is var i and >= 0 ? i : null;
        return (new ImportHeader(names, identity, Index(CsvFormat.Name), entity == RecordEntity.Customer ? Index(CsvFormat.Email) : null,
            entity == RecordEntity.Customer ? Index(CsvFormat.Organizations) : null, fields), errors);
    }
}

/// <summary>
/// CSV injection guard. A cell a spreadsheet would run as a formula (first character = + - @ tab or CR) is exported
/// with a leading apostrophe, which spreadsheets show as text; the import removes exactly that apostrophe, so an
/// export re-imports unchanged (a phone number "+49 ..." included). A value that itself starts with an apostrophe
/// before such a character gets one more, so the guard never eats a real character.
/// </summary>
internal static class FormulaGuard
{
    public static string Protect(string cell) => NeedsGuard(cell) ? "'" + cell : cell;

    public static string Unprotect(string cell) => cell.Length > 1 && cell[0] == '\'' && NeedsGuard(cell[1..]) ? cell[1..] : cell;

    private static bool NeedsGuard(string cell) =>
        cell.Length > 0 && (cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' || (cell[0] == '\'' && NeedsGuard(cell[1..])));
}
