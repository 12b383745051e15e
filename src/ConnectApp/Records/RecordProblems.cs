using ConnectApp.Problems;

namespace ConnectApp.Records;

/// <summary>Problems of organizations, customers and their values.</summary>
internal static class RecordProblems
{
    public static readonly ProblemType VersionMismatch = new(412, "record.version_mismatch");
    public static readonly ProblemType Exists = new(409, "record.exists");
    public static readonly ProblemType ValuesMissing = new(400, "values.missing");
    public static readonly ProblemType BulkSize = new(400, "bulk.size");
    public static readonly ProblemType BulkNoValues = new(400, "bulk.no_values");
    public static readonly ProblemType BulkRecordsNotFound = new(404, "bulk.records_not_found");
    public static readonly ProblemType IssuePanelAccounts = new(400, "issue_panel.accounts");
    public static readonly ProblemType HistoryNotAValue = new(400, "history.not_a_value");

    public static AppProblem NotFound(Fields.RecordEntity entity) =>
        AppProblem.NotFound(entity == Fields.RecordEntity.Organization ? "The organization" : "The customer");

    public static AppProblem Stale(int current, int sent) =>
        VersionMismatch.Problem($"The record changed since you read it (version {current}, you sent {sent}); reload and try again.");
}
