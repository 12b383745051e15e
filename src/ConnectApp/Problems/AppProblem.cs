namespace ConnectApp.Problems;

/// <summary>
/// A kind of refusal the API answers with: an HTTP status and a stable code a client can switch on. Each is
/// declared once, as a static field of its feature's <c>XxxProblems</c> class; throw sites raise it with
/// <see cref="Problem"/>, and endpoints list it with <c>.Problems(...)</c> so the OpenAPI document shows it.
/// </summary>
internal sealed record ProblemType(int Status, string Code)
{
    public AppProblem Problem(string detail, IDictionary<string, string[]>? errors = null) => new(this, detail, errors);
}

/// <summary>
/// A request the app refuses. Thrown by validators and writers; <see cref="AppProblemHandler"/> turns it into the
/// response through <see cref="ProblemWriter"/>. Nothing is written when one is thrown: writers validate before
/// they change anything, inside one transaction.
/// </summary>
internal sealed class AppProblem(ProblemType type, string detail, IDictionary<string, string[]>? errors = null, Exception? inner = null) : Exception(detail, inner)
{
    public ProblemType Type { get; } = type;

    public int Status => Type.Status;

    public string Code => Type.Code;

    public IDictionary<string, string[]>? Errors { get; } = errors;

    /// <summary>Structured details for the client (e.g. the values a type change would lose), under <c>details</c>.</summary>
    public object? Extra { get; init; }

    /// <summary>Seconds for <c>Retry-After</c> (429, 503).</summary>
    public int? RetryAfterSeconds { get; init; }

    public static AppProblem NotFound(string what) => CommonProblems.NotFound.Problem($"{what} was not found.");

    public static AppProblem Validation(IDictionary<string, string[]> errors, string detail = "Some values are not valid; nothing was changed.") =>
        CommonProblems.ValidationFailed.Problem(detail, errors);
}

/// <summary>Problems any endpoint may answer with.</summary>
internal static class CommonProblems
{
    public static readonly ProblemType BadRequest = new(400, "bad_request");
    public static readonly ProblemType ValidationFailed = new(400, "validation_failed");
    public static readonly ProblemType Unauthorized = new(401, "unauthorized");
    public static readonly ProblemType Forbidden = new(403, "forbidden");
    public static readonly ProblemType NotFound = new(404, "not_found");
    public static readonly ProblemType MethodNotAllowed = new(405, "method_not_allowed");
    public static readonly ProblemType InternalError = new(500, "internal_error");
}
