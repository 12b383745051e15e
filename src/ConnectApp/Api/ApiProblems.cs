using ConnectApp.Problems;

namespace ConnectApp.Api;

/// <summary>Problems of the request plumbing every feature shares: If-Match and paging cursors.</summary>
internal static class ApiProblems
{
    public static readonly ProblemType PreconditionRequired = new(428, "precondition_required");
    public static readonly ProblemType IfMatchMalformed = new(400, "if_match_malformed");
    public static readonly ProblemType CursorMalformed = new(400, "cursor_malformed");
}
