namespace JiraSimulator;

/// <summary>What a user is on a site, as Jira's permissions answer it.</summary>
public enum SiteRole
{
    /// <summary>A portal customer: no Jira license.</summary>
    Customer,

    /// <summary>A JSM agent on at least one service desk.</summary>
    Agent,

    /// <summary>A Jira administrator (global ADMINISTER) who is also an agent.</summary>
    Admin,
}

/// <summary>A user of a simulated site.</summary>
public sealed record SimulatedUser(string AccountId, string DisplayName, string Email, SiteRole Role)
{
    /// <summary>The projects where an agent holds SERVICEDESK_AGENT; null: every service desk's project of the site.</summary>
    public IReadOnlySet<long>? AgentProjects { get; init; }
}
