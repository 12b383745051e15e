using ConnectApp.Problems;

namespace ConnectApp.Memberships;

/// <summary>Problems of membership edits, their write-back report and email-domain rules.</summary>
internal static class MembershipProblems
{
    /// <summary>A membership cannot be added with a customer or organization gone from JSM.</summary>
    public static readonly ProblemType RecordRemoved = new(409, "membership.record_removed");

    /// <summary>The customer changed at the same moment (another edit, a sync): nothing was changed; try again.</summary>
    public static readonly ProblemType Conflict = new(409, "membership.conflict");

    public static readonly ProblemType BulkSize = new(400, "membership.bulk_size");

    public static readonly ProblemType RuleDomain = new(400, "email_rule.domain");

    public static readonly ProblemType RuleOrganization = new(400, "email_rule.organization");

    public static readonly ProblemType RuleDuplicate = new(409, "email_rule.duplicate");

    public static readonly ProblemType RuleLimit = new(409, "email_rule.limit");
}
