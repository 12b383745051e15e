using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using AtlassianConnect;
using ConnectApp.Api;
using ConnectApp.Audit;
using ConnectApp.Fields;
using ConnectApp.Jira;
using ConnectApp.Memberships;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Records;
using ConnectApp.Tenants;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Sync;

/// <summary>
/// A full sync of a tenant's JSM directory: reads the service desks, every organization and its members' accountIds
/// (through <see cref="JsmClient"/>: retried on 429/5xx, capped per site), writes the organizations, then streams each
/// desk's customers page by page and writes them in batches of <see cref="BatchSize"/> records per transaction (so the
/// run holds the membership map and the accountIds seen, never the whole directory), each with its audit rows (actor
/// <see cref="Actors.JiraSync"/>), outbox messages (the interceptor) and the run's progress. Records that a sync
/// brought in and that are gone from JSM are marked removed (values kept) and restored if they come back; records
/// that only exist in the app are left alone, and so are their memberships of app-only organizations. Membership
/// changes made in the app that JSM may not show yet are kept (<see cref="WriteBackIntents"/>). Everything compares
/// before it writes: a second run over the same directory, or a redelivered message after a crash, changes nothing.
/// </summary>
internal sealed class DirectorySyncer(
    AppDbContext db, JsmClient jsm, IConnectTenantStore tenants, RecordWriter writer, AuditLog audit, EmailRules emailRules, Npgsql.NpgsqlDataSource dataSource, TimeProvider time, ILogger<DirectorySyncer> logger)
{
    public const int BatchSize = 500;

    /// <summary>Organizations whose members are read at once (the per-site cap in the HTTP client still applies).</summary>
    public const int MemberReadParallelism = 8;

    /// <summary>Customer pages (of 50) read ahead of the writer: two batches' worth.</summary>
    public const int PagesAhead = 20;

    private static readonly TimeSpan ProgressEvery = TimeSpan.FromSeconds(1);

    private DateTimeOffset _lastProgress;

    /// <summary>A new run for the tenant, queued through the outbox (saved by the caller, with its transaction).</summary>
    public DirectorySyncRun Queue(Guid tenantId, string trigger, string requestedBy)
    {
        var now = time.GetUtcNow();
        var run = new DirectorySyncRun
        {
            Id = Guid.NewGuid(),
            TenantId = tenantId,
            Status = SyncStatus.Queued,
            Phase = SyncPhase.Queued,
            Trigger = trigger,
            RequestedBy = requestedBy,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Set<DirectorySyncRun>().Add(run);
        OutboxInterceptor.Add(db, new SyncRequested(tenantId, run.Id));
        return run;
    }

    /// <summary>The scope's tenant's run that is queued or running, if any (newest first).</summary>
    public Task<DirectorySyncRun?> ActiveAsync(CancellationToken cancellationToken) =>
        db.Set<DirectorySyncRun>().AsNoTracking()
            .Where(r => r.Status == SyncStatus.Queued || r.Status == SyncStatus.Running)
            .OrderByDescending(r => r.CreatedAt).FirstOrDefaultAsync(cancellationToken);

    public async Task RunAsync(Guid runId, CancellationToken cancellationToken)
    {
        var run = await db.Set<DirectorySyncRun>().SingleOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is null || run.Status is SyncStatus.Succeeded or SyncStatus.Failed or SyncStatus.Skipped)
        {
            return; // purged, or finished by another worker
        }

        // Never two syncs of one site at once, whichever process runs them: a session advisory lock per tenant, held
        // for the run (released when its connection closes, should the process die).
        await using var held = await AdvisoryLock.TryTakeAsync(dataSource, "connectapp.sync:" + run.TenantId.ToString("N"), cancellationToken);
        if (held is null)
        {
            await FinishAsync(run, SyncStatus.Skipped, "Another sync of this site was running; this one read and changed nothing.", cancellationToken);
            logger.LogInformation("Directory sync {RunId} of tenant {TenantId} skipped: another sync of the site is running", run.Id, run.TenantId);
            return;
        }

        await RunLockedAsync(run, cancellationToken);
    }

    private async Task RunLockedAsync(DirectorySyncRun run, CancellationToken cancellationToken)
    {
        var clientKey = await db.Set<Tenant>().Where(t => t.Id == run.TenantId).Select(t => t.ClientKey).SingleOrDefaultAsync(cancellationToken);
        var tenant = clientKey is null ? null : await tenants.FindAsync(clientKey, refresh: true, cancellationToken);
        if (tenant is not { State: ConnectTenantState.Enabled })
        {
            await FinishAsync(run, SyncStatus.Failed, "The site is not installed and enabled; nothing was read.", cancellationToken);
            return;
        }

        var now = time.GetUtcNow();
        var readFrom = now;
        run.Status = SyncStatus.Running;
        run.Phase = SyncPhase.Reading;
        run.StartedAt ??= now;
        run.WritingAt = null;
        run.Fetched = 0;
        run.Total = null;
        run.Done = 0;
        run.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);

        Directory directory;
        try
        {
            directory = await ReadAsync(tenant, run, cancellationToken);
        }
        catch (JiraCallException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound && run.Fetched == 0)
        {
            // The service desk list itself is missing: a Jira site without JSM. Retrying will not change that.
            await FinishAsync(run, SyncStatus.Failed, "This site has no Jira Service Management (its service desk API answered 404); nothing was changed.", cancellationToken);
            return;
        }

        var customers = await WriteAsync(tenant, run, directory, readFrom, cancellationToken);

        // Email-domain rules over the directory as it now stands (new and re-mailed customers included); what they add
        // is written back to JSM like any membership change made in the app.
        var ruled = await emailRules.ApplyAsync(run.TenantId, cancellationToken);
        db.ChangeTracker.Clear();
        db.Attach(run);
        await FinishAsync(run, SyncStatus.Succeeded, null, cancellationToken);
        logger.LogInformation(
            "Directory sync {RunId} of tenant {TenantId}: {Organizations} organizations, {Customers} customers read; {Created} created, {Updated} updated, {Removed} removed, {Restored} restored; {Ruled} memberships added by email-domain rules",
            run.Id, run.TenantId, directory.Organizations.Count, customers, run.Created, run.Updated, run.Removed, run.Restored, ruled);
    }

    /// <summary>Records a failed attempt on the run (and, when <paramref name="final"/>, ends it as failed).</summary>
    public async Task RecordErrorAsync(Guid runId, string error, bool final, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        if (await db.Set<DirectorySyncRun>().SingleOrDefaultAsync(r => r.Id == runId, cancellationToken) is { Status: not (SyncStatus.Succeeded or SyncStatus.Failed) } run)
        {
            run.Errors++;
            run.Error = Truncate(error);
            run.UpdatedAt = time.GetUtcNow();
            if (final)
            {
                run.Status = SyncStatus.Failed;
                run.FinishedAt = run.UpdatedAt;
            }

            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>
    /// What is read before writing: service desks, organizations, and each member's organizations (JSM ids). The
    /// customers themselves are streamed page by page while writing, so the run never holds the whole directory.
    /// </summary>
    private sealed record Directory(List<JsmServiceDesk> Desks, List<JsmOrganization> Organizations, Dictionary<string, List<string>> OrganizationsOf);

    private async Task<Directory> ReadAsync(ConnectTenant tenant, DirectorySyncRun run, CancellationToken cancellationToken)
    {
        var desks = new List<JsmServiceDesk>();
        await foreach (var page in jsm.ServiceDesksAsync(tenant, cancellationToken))
        {
            desks.AddRange(page);
        }

        var organizations = new List<JsmOrganization>();
        var seenOrganizations = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var page in jsm.OrganizationsAsync(tenant, cancellationToken))
        {
            organizations.AddRange(page.Where(o => seenOrganizations.Add(o.Id)));
            run.Fetched += page.Count;
            await ProgressAsync(run, cancellationToken);
        }

        // Members, several organizations at a time (accountIds only); progress is saved between groups (the context is not shared).
        var organizationsOf = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var group in organizations.Chunk(MemberReadParallelism * 4))
        {
            var members = new ConcurrentDictionary<string, List<string>>(StringComparer.Ordinal);
            long fetched = 0;
            await Parallel.ForEachAsync(group, new ParallelOptions { MaxDegreeOfParallelism = MemberReadParallelism, CancellationToken = cancellationToken }, async (org, ct) =>
            {
                var ids = new List<string>();
                await foreach (var page in jsm.OrganizationMembersAsync(tenant, org.Id, ct))
                {
                    ids.AddRange(page.Select(u => u.AccountId));
                    Interlocked.Add(ref fetched, page.Count);
                }

                members[org.Id] = ids;
            });
            foreach (var org in group)
            {
                foreach (var accountId in members[org.Id])
                {
                    (organizationsOf.TryGetValue(accountId, out var list) ? list : organizationsOf[accountId] = []).Add(org.Id);
                }
            }

            run.Fetched += fetched;
            await ProgressAsync(run, cancellationToken);
        }

        return new Directory(desks, organizations, organizationsOf);
    }

    /// <summary>Writes the organizations, then streams the customers from JSM in batches, then marks what is gone; the number of customers JSM listed.</summary>
    private async Task<int> WriteAsync(ConnectTenant tenant, DirectorySyncRun run, Directory directory, DateTimeOffset readFrom, CancellationToken cancellationToken)
    {
        var caller = new Caller(run.TenantId, Actors.JiraSync, null, AppRole.Admin);
        var jsmOrganizationIds = directory.Organizations.Select(o => o.Id).ToHashSet(StringComparer.Ordinal);
        var goneOrganizations = await GoneAsync(RecordEntity.Organization, jsmOrganizationIds, cancellationToken);

        // The customer count is known once the last page is read; until then the total is estimated from the customers
        // the last sync brought in (none on a first sync: no total, no ETA, until the end).
        var knownCustomers = await db.Set<Record>().CountAsync(r => r.Entity == RecordEntity.Customer && r.SyncedAt != null && r.RemovedAt == null, cancellationToken);
        run.Phase = SyncPhase.Writing;
        run.WritingAt = time.GetUtcNow();
        run.Total = knownCustomers > 0 ? directory.Organizations.Count + goneOrganizations.Count + knownCustomers : null;
        run.Done = 0;
        run.UpdatedAt = run.WritingAt.Value;
        await db.SaveChangesAsync(cancellationToken);

        foreach (var batch in directory.Organizations.Chunk(BatchSize))
        {
            await InBatchAsync(run, batch.Length, async () =>
            {
                var existing = await ExistingAsync(RecordEntity.Organization, batch.Select(o => o.Id).ToArray(), cancellationToken);
                foreach (var org in batch)
                {
                    Upsert(caller, run, RecordEntity.Organization, existing.GetValueOrDefault(org.Id), org.Id, org.Name, null);
                }
            }, cancellationToken);
        }

        // Organizations as they now stand: JSM's (by JSM id), and every organization a sync ever brought in (memberships
        // of the others, made in the app, are kept).
        var organizations = await db.Set<Record>().AsNoTracking()
            .Where(r => r.Entity == RecordEntity.Organization && r.SyncedAt != null)
            .Select(r => new { r.Id, r.ExternalId })
            .ToListAsync(cancellationToken);
        var idOf = organizations.Where(o => jsmOrganizationIds.Contains(o.ExternalId)).ToDictionary(o => o.ExternalId, o => o.Id, StringComparer.Ordinal);
        var syncedOrganizations = organizations.Select(o => o.Id).ToHashSet();
        var inJsm = idOf.Values.ToHashSet();

        // Membership changes made in the app that JSM may not show yet (pending, failed, or written back after this
        // run began reading): the app's change stands, a sync never undoes it.
        var intents = await WriteBackIntents.LoadAsync(db, readFrom, cancellationToken);

        // Customers, streamed: each service desk's customer list page by page, written BatchSize at a time.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new List<JsmUser>(BatchSize);
        async Task FlushAsync()
        {
            if (pending.Count == 0)
            {
                return;
            }

            var batch = pending.ToArray();
            pending.Clear();
            await InBatchAsync(run, batch.Length, async () =>
            {
                var existing = await ExistingAsync(RecordEntity.Customer, batch.Select(c => c.AccountId).ToArray(), cancellationToken);
                var ids = existing.Values.Select(r => r.Id).ToList();
                var current = (await db.Set<Membership>().Where(m => ids.Contains(m.CustomerId)).ToListAsync(cancellationToken))
                    .GroupBy(m => m.CustomerId).ToDictionary(g => g.Key, g => g.ToList());
                foreach (var user in batch)
                {
                    var before = existing.GetValueOrDefault(user.AccountId);
                    var record = Upsert(caller, run, RecordEntity.Customer, before, user.AccountId, user.DisplayName, user.EmailAddress);
                    if (record is null)
                    {
                        continue;
                    }

                    var members = current.TryGetValue(record.Id, out var list) ? list : current[record.Id] = [];
                    var wanted = WriteBackIntents.Apply(
                        (directory.OrganizationsOf.GetValueOrDefault(user.AccountId) ?? [])
                            .Where(idOf.ContainsKey).Select(jsmId => idOf[jsmId])
                            .Concat(members.Select(m => m.OrganizationId).Where(id => !syncedOrganizations.Contains(id)))
                            .Distinct(),
                        intents.GetValueOrDefault(record.Id));
                    if (before is not null)
                    {
                        // Memberships someone removed in JSM itself (the organization is still there): recorded like an
                        // agent's removal in the app, so an email-domain rule does not put the customer back.
                        foreach (var organizationId in members.Select(m => m.OrganizationId).Where(id => inJsm.Contains(id) && !wanted.Contains(id)))
                        {
                            MembershipEditor.RecordRemovedInJsm(db, run.TenantId, record.Id, organizationId, time.GetUtcNow());
                        }
                    }

                    if (writer.SetMemberships(caller, record, members, wanted, audited: before is not null) && before is not null)
                    {
                        if (db.Entry(record).OriginalValues.GetValue<int>(nameof(Record.Version)) == record.Version)
                        {
                            record.Version++;
                            record.UpdatedAt = time.GetUtcNow();
                            run.Updated++;
                        }
                    }
                }
            }, cancellationToken);
        }

        // A reader fetches the desks' customer pages up to PagesAhead ahead of the writer, so reading JSM and writing
        // PostgreSQL overlap while memory stays bounded; a failed read ends the writer's loop with its exception.
        var pages = Channel.CreateBounded<IReadOnlyList<JsmUser>>(new BoundedChannelOptions(PagesAhead) { SingleReader = true, SingleWriter = true });
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = Task.Run(async () =>
        {
            try
            {
                foreach (var desk in directory.Desks)
                {
                    await foreach (var page in jsm.ServiceDeskCustomersAsync(tenant, desk.Id, reading.Token))
                    {
                        await pages.Writer.WriteAsync(page, reading.Token);
                    }
                }

                pages.Writer.Complete();
            }
            catch (Exception e)
            {
                pages.Writer.Complete(e);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var page in pages.Reader.ReadAllAsync(cancellationToken))
            {
                run.Fetched += page.Count;
                foreach (var user in page.Where(u => seen.Add(u.AccountId)))
                {
                    pending.Add(user);
                    if (pending.Count == BatchSize)
                    {
                        await FlushAsync();
                    }
                }
            }
        }
        finally
        {
            await reading.CancelAsync();
            await reader;
        }

        // Members who are on no desk's customer list are customers of the site too; their names come from user/bulk
        // (an account Jira no longer knows keeps its accountId as its name).
        foreach (var chunk in directory.OrganizationsOf.Keys.Where(a => !seen.Contains(a)).Chunk(BatchSize))
        {
            var users = new Dictionary<string, JsmUser>(StringComparer.Ordinal);
            foreach (var user in await jsm.UsersAsync(tenant, chunk, cancellationToken))
            {
                users.TryAdd(user.AccountId, user);
            }

            run.Fetched += users.Count;
            foreach (var accountId in chunk.Where(seen.Add))
            {
                pending.Add(users.GetValueOrDefault(accountId) ?? new JsmUser(accountId, null, null));
                if (pending.Count == BatchSize)
                {
                    await FlushAsync();
                }
            }
        }

        await FlushAsync();
        var goneCustomers = await GoneAsync(RecordEntity.Customer, seen, cancellationToken);
        run.Total = run.Done + goneOrganizations.Count + goneCustomers.Count;
        run.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);

        foreach (var batch in goneOrganizations.Concat(goneCustomers).Chunk(BatchSize))
        {
            await InBatchAsync(run, batch.Length, async () =>
            {
                var records = await db.Set<Record>().Where(r => batch.Contains(r.Id) && r.RemovedAt == null).ToListAsync(cancellationToken);
                var now = time.GetUtcNow();
                foreach (var record in records)
                {
                    record.RemovedAt = now;
                    record.Version++;
                    record.UpdatedAt = now;
                    audit.Add(caller.TenantId, caller.Actor, "record.removed", RecordWriter.Subject(record.Entity), record.Id, null, null, new JsonObject { ["reason"] = "gone from JSM" });
                    run.Removed++;
                }
            }, cancellationToken);
        }

        return seen.Count;
    }

    /// <summary>Creates, renames, re-mails, restores or adopts one record; null when JSM's identity cannot be stored.</summary>
    private Record? Upsert(Caller caller, DirectorySyncRun run, RecordEntity entity, Record? record, string externalId, string? name, string? email)
    {
        if (string.IsNullOrWhiteSpace(externalId) || externalId.Length > RecordLimits.ExternalId)
        {
            run.Errors++;
            run.Error = Truncate($"A JSM {RecordWriter.Subject(entity)} has an id longer than {RecordLimits.ExternalId} characters; it was skipped.");
            return null;
        }

        name = string.IsNullOrWhiteSpace(name) ? externalId : name.Trim();
        if (name.Length > RecordLimits.Name)
        {
            name = name[..RecordLimits.Name];
        }

        email = string.IsNullOrWhiteSpace(email) || email.Length > RecordLimits.Email ? null : email.Trim();
        var now = time.GetUtcNow();
        var subject = RecordWriter.Subject(entity);
        if (record is null)
        {
            record = Record.New(caller.TenantId, entity, externalId, name, entity == RecordEntity.Customer ? email : null, "{}", now);
            record.SyncedAt = now;
            db.Set<Record>().Add(record);
            audit.Add(caller.TenantId, caller.Actor, "record.created", subject, record.Id, null, null, new JsonObject { ["name"] = record.Name });
            run.Created++;
            return record;
        }

        var changed = false;
        if (record.Name != name)
        {
            audit.Add(caller.TenantId, caller.Actor, "record.updated", subject, record.Id, null, new JsonObject { ["name"] = record.Name }, new JsonObject { ["name"] = name });
            record.Name = name;
            changed = true;
        }

        // JSM hides the address of users who chose so: an absent address leaves the stored one as it is.
        if (entity == RecordEntity.Customer && email is not null && email != record.Email)
        {
            // The address itself stays out of the audit: it is personal data that Atlassian may ask us to erase.
            audit.Add(caller.TenantId, caller.Actor, "record.updated", subject, record.Id, null, null, new JsonObject { ["email"] = "changed" });
            record.Email = email;
            changed = true;
        }

        if (record.RemovedAt is not null)
        {
            audit.Add(caller.TenantId, caller.Actor, "record.restored", subject, record.Id, null, null, new JsonObject { ["reason"] = "back in JSM" });
            record.RemovedAt = null;
            run.Restored++;
            changed = true;
        }

        record.SyncedAt ??= now; // adopted: a record made in the app that JSM has too now follows JSM
        if (changed)
        {
            record.Version++;
            record.UpdatedAt = now;
            run.Updated++;
        }

        return record;
    }

    /// <summary>Ids of records a sync brought in, not yet marked removed, whose JSM identity JSM no longer lists.</summary>
    private async Task<List<Guid>> GoneAsync(RecordEntity entity, HashSet<string> inJsm, CancellationToken cancellationToken)
    {
        var synced = await db.Set<Record>().AsNoTracking()
            .Where(r => r.Entity == entity && r.SyncedAt != null && r.RemovedAt == null)
            .Select(r => new { r.Id, r.ExternalId })
            .ToListAsync(cancellationToken);
        return synced.Where(r => !inJsm.Contains(r.ExternalId)).Select(r => r.Id).ToList();
    }

    private async Task<Dictionary<string, Record>> ExistingAsync(RecordEntity entity, string[] externalIds, CancellationToken cancellationToken) =>
        (await db.Set<Record>().Where(r => r.Entity == entity && externalIds.Contains(r.ExternalId)).ToListAsync(cancellationToken))
            .ToDictionary(r => r.ExternalId, StringComparer.Ordinal);

    /// <summary>One batch in one transaction with the run's progress; then the context forgets the batch (memory stays flat).</summary>
    private async Task InBatchAsync(DirectorySyncRun run, int size, Func<Task> apply, CancellationToken cancellationToken)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        await apply();
        run.Done += size;
        run.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        db.Attach(run);
    }

    private async Task ProgressAsync(DirectorySyncRun run, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - _lastProgress < ProgressEvery)
        {
            return;
        }

        _lastProgress = now;
        run.UpdatedAt = now;
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task FinishAsync(DirectorySyncRun run, SyncStatus status, string? error, CancellationToken cancellationToken)
    {
        run.Status = status;
        run.Phase = SyncPhase.Done;
        if (error is not null)
        {
            run.Error = Truncate(error);
        }

        run.FinishedAt = run.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : text[..497] + "...";
}
