using ConnectApp.Problems;

namespace ConnectApp.Csv;

/// <summary>Problems of CSV uploads (the rows' own errors are the import's report, not problems).</summary>
internal static class CsvProblems
{
    public static readonly ProblemType Entity = new(400, "import.entity");
    public static readonly ProblemType Empty = new(400, "import.empty");
    public static readonly ProblemType HeaderTooLong = new(400, "import.header_too_long");
    public static readonly ProblemType HeaderMalformed = new(400, "import.header_malformed");
    public static readonly ProblemType HeaderInvalid = new(400, "import.header_invalid");
    public static readonly ProblemType Encoding = new(400, "import.encoding");
    public static readonly ProblemType TooLarge = new(413, "import.too_large");
    public static readonly ProblemType UnsupportedMediaType = new(415, "import.unsupported_media_type");
    public static readonly ProblemType UnsupportedCharset = new(415, "import.unsupported_charset");
}
