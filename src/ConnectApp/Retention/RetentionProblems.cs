using ConnectApp.Problems;

namespace ConnectApp.Retention;

/// <summary>Problems of deletion on request.</summary>
internal static class RetentionProblems
{
    /// <summary>The confirmation token or phrase does not match a pending deletion request of this site.</summary>
    public static readonly ProblemType ConfirmationInvalid = new(400, "data_deletion.confirmation_invalid");

    /// <summary>A deletion of this site's data is already queued or running.</summary>
    public static readonly ProblemType InProgress = new(409, "data_deletion.in_progress");

    /// <summary>The confirmation came too late: ask again.</summary>
    public static readonly ProblemType ConfirmationExpired = new(410, "data_deletion.confirmation_expired");
}
