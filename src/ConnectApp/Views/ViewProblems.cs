using ConnectApp.Problems;

namespace ConnectApp.Views;

/// <summary>Problems of saved views and column choices.</summary>
internal static class ViewProblems
{
    /// <summary>Views and column choices belong to a person: an API token (no accountId) has none.</summary>
    public static readonly ProblemType PersonOnly = new(403, "view.person_only");

    /// <summary>Someone else's shared view: only its owner changes it (a site admin may delete it).</summary>
    public static readonly ProblemType NotOwner = new(403, "view.not_owner");

    public static readonly ProblemType Duplicate = new(409, "view.duplicate");

    public static readonly ProblemType Limit = new(409, "view.limit");
}
