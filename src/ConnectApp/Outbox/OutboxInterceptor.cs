using ConnectApp.Fields;
using ConnectApp.Records;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ConnectApp.Outbox;

/// <summary>
/// Joins every change to records, memberships and field definitions to its outbox message, inside the same
/// <c>SaveChanges</c> (and so the same transaction, the writer's own or the one SaveChanges opens). Doing it here,
/// from the change tracker, rather than by a call in each writer means a new write path cannot forget its message:
/// RecordWriter (create, values, bulk, import batches), FieldDefinitionWriter (definitions, options, type changes
/// that convert values) and membership changes all go through it. After the save it asks PostgreSQL to wake the
/// relay (<c>pg_notify</c> inside the transaction is delivered at commit).
/// </summary>
internal sealed class OutboxInterceptor : SaveChangesInterceptor
{
    public const string Channel = "connectapp_outbox";

    private bool _added;

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context)
        {
            AddMessages(context);
        }

        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is { } context)
        {
            AddMessages(context);
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        if (_added && eventData.Context is { } context)
        {
            _added = false;
            await context.Database.ExecuteSqlRawAsync($"SELECT pg_notify('{Channel}', '')", cancellationToken);
        }

        return result;
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        if (_added && eventData.Context is { } context)
        {
            _added = false;
            context.Database.ExecuteSqlRaw($"SELECT pg_notify('{Channel}', '')");
        }

        return result;
    }

    /// <summary>Adds a message to <paramref name="db"/>'s unit of work; it is saved (and committed) with the caller's changes.</summary>
    public static void Add<T>(DbContext db, T message)
        where T : IMessage =>
        db.Set<OutboxMessage>().Add(new OutboxMessage { TenantId = message.TenantId, Type = T.Type, Payload = Contracts.Serialize(message) });

    private void AddMessages(DbContext context)
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
                    if ((entry.State == EntityState.Added && r.ValuesJson != "{}") || (entry.State == EntityState.Modified && entry.Property(nameof(Record.ValuesJson)).IsModified))
                    {
                        stamps[r.Id] = new JqlStampRequested(r.TenantId, r.Id); // the JQL property of their (members') issues may be stale
                    }

                    break;
                case Membership m:
                    memberships.Add(m);
                    stamps[m.CustomerId] = new JqlStampRequested(m.TenantId, m.CustomerId);
                    break;
                case FieldDefinition f:
                    fields[f.Id] = new FieldChanged(f.TenantId, f.Id, f.Entity, f.Version);
                    aliases[f.TenantId] = new JqlAliasesChanged(f.TenantId);
                    break;
                case FieldOption o:
                    options.Add(o);
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

        _added |= records.Count > 0 || fields.Count > 0 || context.ChangeTracker.Entries<OutboxMessage>().Any(e => e.State == EntityState.Added);
    }
}
