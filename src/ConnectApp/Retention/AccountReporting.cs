using ConnectApp.Audit;
using ConnectApp.Fields;
using ConnectApp.Jira;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Records;
using ConnectApp.Tenants;
using ConnectApp.Views;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Retention;

/// <summary>
/// Personal data reporting (connect-platform.md §6): every accountId the app stores for a site — customers, and the
/// people named as actors in the audit log, as creators of API tokens and imports, as owners of saved views and column
/// choices — is reported to Atlassian with its
/// last update, at most 90 per call, at the interval Atlassian asks for (<c>Cycle-Period</c>; 7 days by default).
/// <c>closed</c> → that account's personal data is erased: the customer record keeps its id and memberships but loses
/// its name, email and values (and the audit log the values it recorded for it); the account becomes a tombstone
/// wherever it is named as an actor. <c>updated</c> → its name and email are read again from Jira.
/// </summary>
internal sealed class AccountReporter(AppDbContext db, TenantStore tenants, JsmClient jsm, AuditLog audit, TimeProvider time, ILogger<AccountReporter> logger)
{
    public const string ClosedAccountName = "Closed account";

    /// <summary>What an erased account is called wherever it was named as an actor.</summary>
    public const string ClosedAccountActor = "closed-account";

    /// <summary>The actor of the report's erasures and refreshes.</summary>
    public const string ReportActor = "system:privacy";

    public static readonly TimeSpan DefaultCycle = TimeSpan.FromDays(7);

    private sealed record StoredAccount(string AccountId, DateTimeOffset UpdatedAt);

    public async Task RunAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var row = await db.Set<Tenant>().AsNoTracking().SingleOrDefaultAsync(t => t.Id == tenantId, cancellationToken);
        if (row is null || row.UninstalledAt is not null || await tenants.FindAsync(row.ClientKey, refresh: false, cancellationToken) is not { } tenant)
        {
            return; // gone, or uninstalled and waiting for its purge: nothing to report with
        }

        var stored = await db.Database.SqlQuery<StoredAccount>($"""
            SELECT account_id, max(at) AS updated_at FROM (
                SELECT external_id AS account_id, updated_at AS at FROM records WHERE entity = 'Customer'
                UNION ALL SELECT actor, occurred_at FROM audit_entries
                    WHERE actor NOT LIKE 'token:%' AND actor NOT LIKE 'system:%' AND actor NOT IN ('unknown', 'command-line', {ClosedAccountActor})
                UNION ALL SELECT created_by, created_at FROM api_tokens
                UNION ALL SELECT created_by, created_at FROM import_jobs
                UNION ALL SELECT owner_account_id, updated_at FROM saved_views
                UNION ALL SELECT account_id, updated_at FROM directory_columns
            ) a WHERE account_id <> {ClosedAccountActor} GROUP BY account_id ORDER BY account_id
            """).ToListAsync(cancellationToken);

        var closed = new List<string>();
        var updated = new List<string>();
        int? cycle = null;
        foreach (var chunk in stored.Chunk(JsmClient.MaxReportedAccounts))
        {
            var (answers, chunkCycle) = await jsm.ReportAccountsAsync(tenant, [.. chunk.Select(a => (a.AccountId, a.UpdatedAt))], cancellationToken);
            cycle = chunkCycle ?? cycle;
            closed.AddRange(answers.Where(a => a.Status == "closed").Select(a => a.AccountId));
            updated.AddRange(answers.Where(a => a.Status == "updated").Select(a => a.AccountId));
        }

        foreach (var accountId in closed.Distinct(StringComparer.Ordinal))
        {
            await EraseAsync(tenantId, accountId, ReportActor, cancellationToken);
        }

        var refreshed = updated.Count == 0 ? 0 : await RefreshAsync(tenant, updated, ReportActor, cancellationToken);
        var now = time.GetUtcNow();
        await db.Set<Tenant>().Where(t => t.Id == tenantId)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.AccountsReportedAt, now).SetProperty(t => t.AccountsReportCycleSeconds, cycle), cancellationToken);
        logger.LogInformation("Personal data report of tenant {TenantId}: {Reported} account(s) reported, {Closed} closed and erased, {Refreshed} refreshed",
            tenantId, stored.Count, closed.Count, refreshed);
    }

    /// <summary>
    /// Erases one closed (or deleted) account's personal data, in one transaction (the record change reaches the search
    /// index through the outbox): the personal data report's <c>closed</c>, and the <c>user_deleted</c> webhook. False
    /// when there was nothing (left) to erase.
    /// </summary>
    public async Task<bool> EraseAsync(Guid tenantId, string accountId, string actor, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var customer = await db.Set<Record>().SingleOrDefaultAsync(r => r.Entity == RecordEntity.Customer && r.ExternalId == accountId, cancellationToken);
        var named = await db.Set<AuditEntry>().AnyAsync(a => a.Actor == accountId, cancellationToken)
            || await db.Set<ApiTokens.ApiToken>().AnyAsync(t => t.CreatedBy == accountId, cancellationToken)
            || await db.Set<Csv.ImportJob>().AnyAsync(j => j.CreatedBy == accountId, cancellationToken)
            || await db.Set<SavedView>().AnyAsync(v => v.OwnerAccountId == accountId, cancellationToken)
            || await db.Set<DirectoryColumns>().AnyAsync(c => c.AccountId == accountId, cancellationToken);
        var alreadyErased = (customer is null || customer is { Name: ClosedAccountName, Email: null, ValuesJson: "{}" }) && !named;
        if (alreadyErased)
        {
            return false; // reported closed again in a later cycle, or never stored: nothing left to erase
        }

        if (customer is not null)
        {
            customer.Name = ClosedAccountName;
            customer.Email = null;
            customer.ValuesJson = "{}";
            customer.Version++;
            customer.UpdatedAt = time.GetUtcNow();
            await db.Set<AuditEntry>().Where(a => a.RecordId == customer.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(a => a.OldValue, (string?)null).SetProperty(a => a.NewValue, (string?)null), cancellationToken);
        }

        await db.Set<AuditEntry>().Where(a => a.Actor == accountId).ExecuteUpdateAsync(s => s.SetProperty(a => a.Actor, ClosedAccountActor), cancellationToken);
        await db.Set<ApiTokens.ApiToken>().Where(t => t.CreatedBy == accountId).ExecuteUpdateAsync(s => s.SetProperty(t => t.CreatedBy, ClosedAccountActor), cancellationToken);
        await db.Set<Csv.ImportJob>().Where(j => j.CreatedBy == accountId).ExecuteUpdateAsync(s => s.SetProperty(j => j.CreatedBy, ClosedAccountActor), cancellationToken);
        // Their private views and column choices go; views they shared stay for the agents who use them, owned by no one (a site admin may delete them).
        await db.Set<SavedView>().Where(v => v.OwnerAccountId == accountId && !v.Shared).ExecuteDeleteAsync(cancellationToken);
        await db.Set<SavedView>().Where(v => v.OwnerAccountId == accountId).ExecuteUpdateAsync(s => s.SetProperty(v => v.OwnerAccountId, ClosedAccountActor), cancellationToken);
        await db.Set<DirectoryColumns>().Where(c => c.AccountId == accountId).ExecuteDeleteAsync(cancellationToken);
        audit.Add(tenantId, actor, "account.erased", "customer", customer?.Id, null, null, null);
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Reads updated accounts' names and emails from Jira into their customer records, audited as the directory sync
    /// audits them (the old and new name; that the email changed, never the address); the number refreshed. The
    /// personal data report's <c>updated</c>, and the <c>user_updated</c> webhook.
    /// </summary>
    public async Task<int> RefreshAsync(AtlassianConnect.ConnectTenant tenant, IReadOnlyCollection<string> accountIds, string actor, CancellationToken cancellationToken)
    {
        var users = (await jsm.UsersAsync(tenant, accountIds, cancellationToken)).ToDictionary(u => u.AccountId, StringComparer.Ordinal);
        var ids = users.Keys.ToList();
        var customers = await db.Set<Record>().Where(r => r.Entity == RecordEntity.Customer && ids.Contains(r.ExternalId)).ToListAsync(cancellationToken);
        var refreshed = 0;
        foreach (var customer in customers)
        {
            var user = users[customer.ExternalId];
            var name = string.IsNullOrWhiteSpace(user.DisplayName) ? customer.Name : user.DisplayName[..Math.Min(user.DisplayName.Length, RecordLimits.Name)];
            var email = user.EmailAddress is { Length: > 0 and <= RecordLimits.Email } e ? e : customer.Email; // Jira hides emails it may not share
            if (name == customer.Name && email == customer.Email)
            {
                continue;
            }

            if (name != customer.Name)
            {
                audit.Add(customer.TenantId, actor, "record.updated", "customer", customer.Id, null, new System.Text.Json.Nodes.JsonObject { ["name"] = customer.Name }, new System.Text.Json.Nodes.JsonObject { ["name"] = name });
            }

            if (email != customer.Email)
            {
                audit.Add(customer.TenantId, actor, "record.updated", "customer", customer.Id, null, null, new System.Text.Json.Nodes.JsonObject { ["email"] = "changed" });
            }

            customer.Name = name;
            customer.Email = email;
            customer.Version++;
            customer.UpdatedAt = time.GetUtcNow();
            refreshed++;
        }

        await db.SaveChangesAsync(cancellationToken);
        return refreshed;
    }
}

/// <summary><c>personal-data.report.v1</c>: reports one tenant's stored accounts in the worker.</summary>
internal sealed class AccountsReportHandler(AccountReporter reporter, ILogger<AccountsReportHandler> logger) : IMessageHandler
{
    public Task<HandlerResult> HandleAsync(ReadOnlyMemory<byte> body, MessageContext context, CancellationToken cancellationToken) =>
        Commands.RunAsync<AccountsReportRequested>(body, context, m => m.TenantId, m => reporter.RunAsync(m.TenantId, cancellationToken), logger, "Personal data report of tenant", cancellationToken);
}
