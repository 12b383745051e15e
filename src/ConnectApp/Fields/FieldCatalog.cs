using ConnectApp.Persistence;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Fields;

/// <summary>A tenant's field definitions for one entity, with options, in display order.</summary>
internal sealed class FieldCatalog(IReadOnlyList<FieldDefinition> fields)
{
    private readonly Dictionary<string, FieldDefinition> _byKey = fields.ToDictionary(f => f.Key, StringComparer.Ordinal);
    private readonly Dictionary<Guid, FieldDefinition> _byId = fields.ToDictionary(f => f.Id);

    public IReadOnlyList<FieldDefinition> All { get; } = fields;

    public IEnumerable<FieldDefinition> Active => All.Where(f => !f.Archived);

    public FieldDefinition? ByKey(string key) => _byKey.GetValueOrDefault(key);

    public FieldDefinition? ById(Guid id) => _byId.GetValueOrDefault(id);

    public static async Task<FieldCatalog> LoadAsync(AppDbContext db, RecordEntity entity, CancellationToken cancellationToken)
    {
        var fields = await db.Set<FieldDefinition>().AsNoTracking()
            .Where(f => f.Entity == entity)
            .Include(f => f.Options.OrderBy(o => o.Position))
            .OrderBy(f => f.Position).ThenBy(f => f.Key)
            .ToListAsync(cancellationToken);
        return new FieldCatalog(fields);
    }

    /// <summary>Both entities' catalogs in one query (the issue panel and the portal need both).</summary>
    public static async Task<(FieldCatalog Organization, FieldCatalog Customer)> LoadBothAsync(AppDbContext db, CancellationToken cancellationToken)
    {
        var fields = await db.Set<FieldDefinition>().AsNoTracking()
            .Include(f => f.Options.OrderBy(o => o.Position))
            .OrderBy(f => f.Position).ThenBy(f => f.Key)
            .ToListAsync(cancellationToken);
        return (new FieldCatalog(fields.Where(f => f.Entity == RecordEntity.Organization).ToList()), new FieldCatalog(fields.Where(f => f.Entity == RecordEntity.Customer).ToList()));
    }

    /// <summary>Field id → key for <paramref name="fieldIds"/> (archived fields included), e.g. to label history entries.</summary>
    public static async Task<IReadOnlyDictionary<Guid, string>> KeysAsync(AppDbContext db, IReadOnlyCollection<Guid> fieldIds, CancellationToken cancellationToken) =>
        await db.Set<FieldDefinition>().AsNoTracking().Where(f => fieldIds.Contains(f.Id)).ToDictionaryAsync(f => f.Id, f => f.Key, cancellationToken);
}
