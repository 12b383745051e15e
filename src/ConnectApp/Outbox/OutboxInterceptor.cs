using System.Runtime.CompilerServices;
using ConnectApp.Fields;
using ConnectApp.Records;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Caching.Memory;

namespace ConnectApp.Outbox;

/// <summary>
/// Joins every change to records, memberships and field definitions to its outbox message, inside the same
/// <c>SaveChanges</c> (and so the same transaction, the writer's own or the one SaveChanges opens). Doing it here,
/// from the change tracker, rather than by a call in each writer means a new write path cannot forget its message:
/// RecordWriter (create, values, bulk, import batches), FieldDefinitionWriter (definitions, options, type changes
/// that convert values) and membership changes all go through it. After the save it asks PostgreSQL to wake the
/// relay (<c>pg_notify</c> inside the transaction is delivered at commit).
/// </summary>
internal sealed class OutboxInterceptor(IMemoryCache cache) : SaveChangesInterceptor
{
    public const string Channel = "connectapp_outbox";

    /// <summary>How long "this tenant has a field searchable in JQL" is believed (a field change in this process forgets it at once).</summary>
    public static readonly TimeSpan JqlSearchableCacheFor = TimeSpan.FromSeconds(10);

    // One interceptor for every context (the options are built once): whether a save added messages is kept per context.
    private readonly ConditionalWeakTable<DbContext, StrongBox<bool>> _added = new();

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context)
        {
            var searchable = await JqlSearchableTenantsAsync(context, cancellationToken);
            AddMessages(context, searchable);
        }

        return result;
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is { } context)
        {
            AddMessages(context, null);
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context && TakeAdded(context))
        {
            await context.Database.ExecuteSqlRawAsync($"SELECT pg_notify('{Channel}', '')", cancellationToken);
        }

        return result;
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (eventData.Context is { } context && TakeAdded(context))
        {
            context.Database.ExecuteSqlRaw($"SELECT pg_notify('{Channel}', '')");
        }

        return result;
    }

    /// <summary>Adds a message to <paramref name="db"/>'s unit of work; it is saved (and committed) with the caller's changes.</summary>
    public static void Add<T>(DbContext db, T message)
        where T : IMessage =>
        db.Set<OutboxMessage>().Add(new OutboxMessage { TenantId = message.TenantId, Type = T.Type, Payload = Contracts.Serialize(message) });

    /// <summary>
    /// The tenants of this save whose values or memberships change and that have a field searchable in JQL: only their
    /// changes need <c>jql.stamp.v1</c> (a 100,000-customer sync of a site without one must not double its messages).
    /// A field change forgets the answer (the JQL alias registration re-stamps everyone after a change of the set).
    /// </summary>
    private async Task<HashSet<Guid>> JqlSearchableTenantsAsync(DbContext context, CancellationToken cancellationToken)
    {
        var tenants = new HashSet<Guid>();
        foreach (var entry in context.ChangeTracker.Entries())
        {
            switch (entry.Entity)
            {
                case FieldDefinition f:
                    cache.Remove(JqlKey(f.TenantId));
                    break;
                case Record r when entry.State is EntityState.Added or EntityState.Modified:
                case Membership when entry.State is EntityState.Added or EntityState.Deleted:
                    tenants.Add(entry.Entity is Record rec ? rec.TenantId : ((Membership)entry.Entity).TenantId);
                    break;
                default:
                    break;
            }
        }

        var searchable = new HashSet<Guid>();
        foreach (var tenant in tenants)
        {
            if (!cache.TryGetValue(JqlKey(tenant), out bool has))
            {
                // The save's own connection, already acting for the tenant (row-level security shows only its fields).
                has = await context.Database.SqlQueryRaw<bool>(
                    """SELECT EXISTS (SELECT 1 FROM field_definitions WHERE jql_searchable AND NOT archived AND tenant_id = {0}) AS "Value" """, tenant)
                    .SingleAsync(cancellationToken);
                cache.Set(JqlKey(tenant), has, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = JqlSearchableCacheFor, Size = 1 });
            }

            if (has)
            {
                searchable.Add(tenant);
            }
        }

        return searchable;
    }

    private static string JqlKey(Guid tenantId) => "jql-searchable:" + tenantId.ToString("N");

    /// <param name="context">The context being saved.</param>
    /// <param name="jqlSearchable">Tenants whose value changes get <c>jql.stamp.v1</c>; null: every tenant (the synchronous save cannot ask).</param>
    private void AddMessages(DbContext context, HashSet<Guid>? jqlSearchable)
    {
        var records = new Dictionary<Guid, RecordChanged>();
        var fields = new Dictionary<Guid, FieldChanged>();
        var memberships = new List<Membership>();
        var options = new List<FieldOption>();
        var stamps = new Dictionary<Guid, JqlStampRequested>();
        var aliases = new Dictionary<Guid, JqlAliasesChanged>();
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is not (EntityState.Added or EntityState.Modified or EntityState.Deleted))
            {
                continue;
            }

            switch (entry.Entity)
            {
                case Record r:
                    // A deleted record's message carries the next version, so it wins over any change before it.
                    records[r.Id] = new RecordChanged(r.TenantId, r.Id, r.Entity, entry.State == EntityState.Deleted ? r.Version + 1 : r.Version);
                    if (jqlSearchable?.Contains(r.TenantId) != false
                        && ((entry.State == EntityState.Added && r.ValuesJson != "{}") || (entry.State == EntityState.Modified && entry.Property(nameof(Record.ValuesJson)).IsModified)))
                    {
                        stamps[r.Id] = new JqlStampRequested(r.TenantId, r.Id); // the JQL property of their (members') issues may be stale
                    }

                    break;
                case Membership m:
                    memberships.Add(m);
                    if (jqlSearchable?.Contains(m.TenantId) != false)
                    {
                        stamps[m.CustomerId] = new JqlStampRequested(m.TenantId, m.CustomerId);
                    }

                    break;
                case FieldDefinition f:
                    fields[f.Id] = new FieldChanged(f.TenantId, f.Id, f.Entity, f.Version);
                    aliases[f.TenantId] = new JqlAliasesChanged(f.TenantId);
                    break;
                case FieldOption o:
                    options.Add(o);
                    aliases[o.TenantId] = new JqlAliasesChanged(o.TenantId); // a renamed option of a searchable field changes the issues' property
                    break;
                default:
                    break;
            }
        }

        // A membership belongs to the customer's search document (organizations are found through their customers' lists).
        foreach (var m in memberships.Where(m => !records.ContainsKey(m.CustomerId)))
        {
            var customer = context.ChangeTracker.Entries<Record>().FirstOrDefault(e => e.Entity.Id == m.CustomerId)?.Entity;
            records[m.CustomerId] = new RecordChanged(m.TenantId, m.CustomerId, RecordEntity.Customer, customer?.Version ?? 0);
        }

        foreach (var o in options.Where(o => !fields.ContainsKey(o.FieldId)))
        {
            var field = context.ChangeTracker.Entries<FieldDefinition>().FirstOrDefault(e => e.Entity.Id == o.FieldId)?.Entity;
            fields[o.FieldId] = new FieldChanged(o.TenantId, o.FieldId, field?.Entity ?? RecordEntity.Organization, field?.Version ?? 0);
        }

        foreach (var message in records.Values)
        {
            Add(context, message);
        }

        foreach (var message in fields.Values)
        {
            Add(context, message);
        }

        foreach (var message in stamps.Values)
        {
            Add(context, message);
        }

        foreach (var message in aliases.Values)
        {
            Add(context, message);
        }

        if (records.Count > 0 || fields.Count > 0 || context.ChangeTracker.Entries<OutboxMessage>().Any(e => e.State == EntityState.Added))
        {
            _added.GetOrCreateValue(context).Value = true;
        }
    }

    /// <summary>Whether this context's last save added messages (so the relay is woken); forgets it.</summary>
    private bool TakeAdded(DbContext context)
    {
        if (_added.TryGetValue(context, out var added) && added.Value)
        {
            added.Value = false;
            return true;
        }

        return false;
    }
}
