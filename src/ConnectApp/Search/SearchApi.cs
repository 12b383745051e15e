using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Licensing;
using ConnectApp.Outbox;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using ConnectApp.Records;
using ConnectApp.Roles;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace ConnectApp.Search;

/// <summary>
/// The directory search for agents and API tokens with the <c>read</c> scope (a POST that reads: filters do not fit a
/// query string). Portal customers get 403: agent-only fields must never be searchable from their tokens, so they get
/// nothing here. Every answer says how far the mirror is behind (<see cref="Freshness"/>).
/// </summary>
internal static class SearchApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;
    public const int MaxFilters = 20;
    public const int MaxTextLength = 200;

    /// <summary>
    /// <c>op</c>: <c>equals</c> (value), <c>in</c> (values), <c>contains</c> (value; text-like fields), <c>range</c>
    /// (gte/gt/lte/lt; number and date), <c>empty</c>, <c>not-empty</c>. Select values are option labels or ids.
    /// </summary>
    public sealed record FilterRequest(string Field, string Op, JsonNode? Value, IReadOnlyList<JsonNode?>? Values, JsonNode? Gte, JsonNode? Gt, JsonNode? Lte, JsonNode? Lt);

    /// <summary>
    /// <c>sort</c>: <c>name</c> (default), <c>-name</c>, a field key, or <c>-</c> and a field key. <c>organizationId</c>
    /// (customer search): members of that organization; <c>customerId</c> (organization search): that customer's organizations.
    /// </summary>
    public sealed record SearchRequest(string? Q, IReadOnlyList<FilterRequest>? Filters, Guid? OrganizationId, Guid? CustomerId, string? Sort, string? Cursor, int? Limit);

    /// <summary>
    /// How far behind PostgreSQL the index is for this site: changes written but not yet applied, and the oldest one's
    /// age; and changes the mirror gave up on (dead-lettered), which stay missing until an admin reindexes.
    /// </summary>
    public sealed record Freshness(long PendingChanges, double LagSeconds, DateTimeOffset? OldestPendingAt, long FailedChanges);

    /// <summary>
    /// <c>total</c>: the number of matches, counted up to 1,000 (<see cref="SearchResult.TotalCap"/>); <c>totalExact</c>
    /// false means there are more and <c>total</c> is a lower bound (show "1,000+").
    /// </summary>
    public sealed record SearchPage(long Total, bool TotalExact, IReadOnlyList<RecordView> Values, string? NextCursor, Freshness Freshness);

    private const string TotalDescription = " The answer's total counts matches up to 1,000: beyond that, total is 1,000 and totalExact is false (a lower bound).";

    public static IEndpointRouteBuilder MapSearchEndpoints(IEndpointRouteBuilder app)
    {
        var search = app.MapGroup("/search").WithTags("Directory search").RequireAuthorization(RolesFeature.Agent).AllowUnlicensed() // POSTs that only read
            .Problems(CommonProblems.ValidationFailed, CommonProblems.NotFound, ApiProblems.CursorMalformed);
        search.MapPost("/organizations", (SearchRequest body, Caller caller, AppDbContext db, ISearchIndex index, TimeProvider time, CancellationToken ct) =>
                SearchAsync(RecordEntity.Organization, body, caller, db, index, time, ct))
            .WithSummary("Search organizations")
            .WithDescription("""Example: {"q": "acme", "filters": [{"field": "tier", "op": "in", "values": ["Gold", "Silver"]}, {"field": "seats", "op": "range", "gte": 10}], "sort": "-seats", "limit": 50}""" + TotalDescription);
        search.MapPost("/customers", (SearchRequest body, Caller caller, AppDbContext db, ISearchIndex index, TimeProvider time, CancellationToken ct) =>
                SearchAsync(RecordEntity.Customer, body, caller, db, index, time, ct))
            .WithSummary("Search customers")
            .WithDescription("""Example: {"q": "@example.com", "organizationId": "…", "filters": [{"field": "vip", "op": "equals", "value": true}, {"field": "renewal", "op": "range", "gte": "2026-01-01", "lt": "2027-01-01"}]}""" + TotalDescription);
        return app;
    }

    private static async Task<Ok<SearchPage>> SearchAsync(RecordEntity entity, SearchRequest body, Caller caller, AppDbContext db, ISearchIndex index, TimeProvider time, CancellationToken ct)
    {
        body ??= new SearchRequest(null, null, null, null, null, null, null);
        var catalog = await FieldCatalog.LoadAsync(db, entity, ct);
        var errors = new Dictionary<string, string[]>();
        if (body.Q is { Length: > MaxTextLength })
        {
            errors["q"] = [$"must be at most {MaxTextLength} characters"];
        }

        var filters = ParseFilters(body.Filters ?? [], catalog, errors);
        var sort = ParseSort(body.Sort, catalog, errors);
        if (entity == RecordEntity.Organization && body.OrganizationId is not null)
        {
            errors["organizationId"] = ["filters customers only; to find a customer's organizations use customerId"];
        }

        if (entity == RecordEntity.Customer && body.CustomerId is not null)
        {
            errors["customerId"] = ["filters organizations only; to find an organization's customers use organizationId"];
        }

        if (errors.Count > 0)
        {
            throw AppProblem.Validation(errors, "The search is not valid.");
        }

        var after = body.Cursor is null ? null : DecodeCursor(body.Cursor, body.Sort ?? "name");
        IReadOnlyList<Guid>? recordIds = null;
        if (body.CustomerId is { } customerId)
        {
            if (!await db.Set<Record>().AnyAsync(r => r.Id == customerId && r.Entity == RecordEntity.Customer, ct))
            {
                throw AppProblem.NotFound("The customer");
            }

            recordIds = await db.Set<Membership>().AsNoTracking().Where(m => m.CustomerId == customerId).Select(m => m.OrganizationId).ToListAsync(ct);
        }

        if (body.OrganizationId is { } organizationId && !await db.Set<Record>().AnyAsync(r => r.Id == organizationId && r.Entity == RecordEntity.Organization, ct))
        {
            throw AppProblem.NotFound("The organization");
        }

        var limit = Math.Clamp(body.Limit ?? DefaultLimit, 1, MaxLimit);
        var query = new SearchQuery(caller.TenantId, entity, string.IsNullOrWhiteSpace(body.Q) ? null : body.Q.Trim(), filters, body.OrganizationId, recordIds, sort, after, limit);
        // Freshness first: what it reports as applied is then certainly in the results (read after it).
        var freshness = await FreshnessAsync(db, caller.TenantId, time, ct);
        var result = await index.SearchAsync(query, ct);
        var values = result.Hits.Select(h => RecordView.From(ToRecord(caller.TenantId, h.Record), catalog, caller.Role, entity == RecordEntity.Customer ? h.Record.OrganizationIds : null)).ToList();
        var next = result.HasMore ? EncodeCursor(result.Hits[^1], body.Sort ?? "name") : null;
        return TypedResults.Ok(new SearchPage(result.Total, result.TotalExact, values, next, freshness));
    }

    /// <summary>The oldest change of the tenant's records that the mirror has not applied yet.</summary>
    internal static async Task<Freshness> FreshnessAsync(AppDbContext db, Guid tenantId, TimeProvider time, CancellationToken ct)
    {
        var type = RecordChanged.Type;
        var pending = await db.Database.SqlQuery<PendingChanges>($"""
            SELECT count(*) FILTER (WHERE dead_lettered_at IS NULL) AS count,
                   min(created_at) FILTER (WHERE dead_lettered_at IS NULL) AS oldest,
                   count(*) FILTER (WHERE dead_lettered_at IS NOT NULL) AS failed
            FROM outbox_messages WHERE tenant_id = {tenantId} AND applied_at IS NULL AND type = {type}
            """).SingleAsync(ct);
        if (pending.Count == 0 || pending.Oldest is null)
        {
            return new Freshness(0, 0, null, pending.Failed);
        }

        var lag = Math.Max(0, (time.GetUtcNow() - pending.Oldest.Value).TotalSeconds);
        return new Freshness(pending.Count, Math.Round(lag, 3), pending.Oldest, pending.Failed);
    }

    private sealed record PendingChanges(long Count, DateTimeOffset? Oldest, long Failed);

    private static Record ToRecord(Guid tenantId, IndexedRecord d) => new()
    {
        Id = d.RecordId,
        TenantId = tenantId,
        Entity = d.Entity,
        ExternalId = d.ExternalId,
        Name = d.Name,
        Email = d.Email,
        ValuesJson = d.Values.ToJsonString(),
        Version = d.Version,
        UpdatedAt = d.UpdatedAt,
    };

    /// <summary>The errors of a search's text, filters and sort against these fields (none: valid); saved views are checked with it.</summary>
    internal static Dictionary<string, string[]> Check(string? q, IReadOnlyList<FilterRequest>? filters, string? sort, FieldCatalog catalog)
    {
        var errors = new Dictionary<string, string[]>();
        if (q is { Length: > MaxTextLength })
        {
            errors["q"] = [$"must be at most {MaxTextLength} characters"];
        }

        ParseFilters(filters ?? [], catalog, errors);
        ParseSort(sort, catalog, errors);
        return errors;
    }

    private static List<SearchFilter> ParseFilters(IReadOnlyList<FilterRequest> requests, FieldCatalog catalog, Dictionary<string, string[]> errors)
    {
        if (requests.Count > MaxFilters)
        {
            errors["filters"] = [$"at most {MaxFilters} filters"];
            return [];
        }

        var filters = new List<SearchFilter>(requests.Count);
        for (var i = 0; i < requests.Count; i++)
        {
            var key = $"filters[{i}]";
            var r = requests[i];
            if (r is null || string.IsNullOrEmpty(r.Field) || string.IsNullOrEmpty(r.Op))
            {
                errors[key] = ["needs a field and an op"];
                continue;
            }

            var field = catalog.ByKey(r.Field);
            if (field is null || field.Archived)
            {
                errors[key] = [$"'{r.Field}' is not a field of these records"];
                continue;
            }

            var (filter, error) = ParseFilter(field, r);
            if (error is not null)
            {
                errors[key] = [error];
            }
            else
            {
                filters.Add(filter!);
            }
        }

        return filters;
    }

    private static (SearchFilter? Filter, string? Error) ParseFilter(FieldDefinition field, FilterRequest r)
    {
        var textLike = field.Type is FieldType.Text or FieldType.Paragraph or FieldType.Email or FieldType.Url or FieldType.Phone;
        SearchFilter Make(FilterKind kind, IReadOnlyList<JsonNode>? values = null, string? text = null, JsonNode? gte = null, JsonNode? gt = null, JsonNode? lte = null, JsonNode? lt = null) =>
            new(field.Id, field.Type, kind, values ?? [], text, gte, gt, lte, lt);
        switch (r.Op)
        {
            case "empty":
                return (Make(FilterKind.Empty), null);
            case "not-empty":
                return (Make(FilterKind.NotEmpty), null);
            case "equals":
                {
                    var (value, error) = StoredValue(field, r.Value);
                    return error is null ? (Make(FilterKind.Equals, [value!]), null) : (null, error);
                }

            case "in" when field.Type is FieldType.Select or FieldType.MultiSelect or FieldType.User or FieldType.Checkbox || textLike:
                {
                    if (r.Values is not { Count: > 0 and <= 100 })
                    {
                        return (null, "'in' takes values: 1 to 100 of them");
                    }

                    var values = new List<JsonNode>(r.Values.Count);
                    foreach (var raw in r.Values)
                    {
                        var (value, error) = StoredValue(field, raw);
                        if (error is not null)
                        {
                            return (null, error);
                        }

                        values.Add(value!);
                    }

                    return (Make(FilterKind.AnyOf, values), null);
                }

            case "contains" when textLike:
                return r.Value is JsonValue v && v.TryGetValue<string>(out var text) && text.Length is > 0 and <= MaxTextLength
                    ? (Make(FilterKind.Contains, text: text), null)
                    : (null, $"'contains' takes a text value of 1 to {MaxTextLength} characters");
            case "range" when field.Type is FieldType.Number or FieldType.Date:
                {
                    var bounds = new JsonNode?[4];
                    var raw = new[] { r.Gte, r.Gt, r.Lte, r.Lt };
                    for (var b = 0; b < 4; b++)
                    {
                        if (raw[b] is null)
                        {
                            continue;
                        }

                        var (value, error) = StoredValue(field, raw[b]);
                        if (error is not null)
                        {
                            return (null, "range bounds: " + error);
                        }

                        bounds[b] = value;
                    }

                    return bounds.All(b => b is null)
                        ? (null, "'range' takes at least one of gte, gt, lte, lt")
                        : (Make(FilterKind.Range, gte: bounds[0], gt: bounds[1], lte: bounds[2], lt: bounds[3]), null);
                }

            default:
                return (null, $"'{r.Op}' is not a filter for a {Name(field.Type)} field (" + string.Join(", ", OpsFor(field.Type)) + ")");
        }
    }

    private static string Name(FieldType type) => type == FieldType.MultiSelect ? "multi-select" : type.ToString().ToLowerInvariant();

    private static IEnumerable<string> OpsFor(FieldType type) => type switch
    {
        FieldType.Number or FieldType.Date => ["equals", "range", "empty", "not-empty"],
        FieldType.Select or FieldType.MultiSelect or FieldType.User or FieldType.Checkbox => ["equals", "in", "empty", "not-empty"],
        _ => ["equals", "in", "contains", "empty", "not-empty"],
    };

    /// <summary>A filter value in the form records store it (an option's id, a normalized number, an ISO date, ...).</summary>
    private static (JsonNode? Value, string? Error) StoredValue(FieldDefinition field, JsonNode? raw)
    {
        if (raw is not JsonValue value)
        {
            return (null, "needs a value");
        }

        switch (field.Type)
        {
            case FieldType.Select:
            case FieldType.MultiSelect:
                if (!value.TryGetValue<string>(out var label))
                {
                    return (null, "an option is given by its label or id");
                }

                // Retired options still match: records may hold them.
                var option = Guid.TryParse(label, out var optionId)
                    ? field.Options.FirstOrDefault(o => o.Id == optionId)
                    : field.Options.FirstOrDefault(o => string.Equals(o.Label, label.Trim(), StringComparison.OrdinalIgnoreCase));
                return option is null ? (null, $"'{label}' is not an option of {field.Key}") : (JsonValue.Create(option.Id.ToString()), null);
            case FieldType.Checkbox:
                return value.TryGetValue<bool>(out var flag) ? (JsonValue.Create(flag), null) : (null, "a checkbox value is true or false");
            case FieldType.Number:
                return value.TryGetValue<decimal>(out var number) ? (JsonValue.Create(number / 1.000000000000000000000000000000000m), null) : (null, "must be a number");
            case FieldType.Date:
                return value.TryGetValue<string>(out var date) && DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                    ? (JsonValue.Create(date), null)
                    : (null, "must be a date as yyyy-MM-dd");
            default:
                return value.TryGetValue<string>(out var text) && text.Length <= 10_000 ? (JsonValue.Create(text), null) : (null, "must be text");
        }
    }

    private static SearchSort ParseSort(string? sort, FieldCatalog catalog, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrEmpty(sort) || sort is "name")
        {
            return new SearchSort(null, null, false);
        }

        if (sort is "-name")
        {
            return new SearchSort(null, null, true);
        }

        var descending = sort.StartsWith('-');
        var field = catalog.ByKey(descending ? sort[1..] : sort);
        if (field is null || field.Archived)
        {
            errors["sort"] = ["is name, -name, a field key or - and a field key"];
            return new SearchSort(null, null, false);
        }

        return new SearchSort(field.Id, field.Type, descending);
    }

    private static string EncodeCursor(SearchHit last, string sort)
    {
        var json = new JsonObject { ["s"] = sort, ["k"] = last.SortKey?.DeepClone(), ["id"] = last.Record.RecordId.ToString("N") }.ToJsonString();
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static SearchCursor DecodeCursor(string cursor, string sort)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded = padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '=');
            var json = JsonNode.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(padded)))!.AsObject();
            if (json["s"]?.GetValue<string>() != sort)
            {
                throw ApiProblems.CursorMalformed.Problem("The cursor belongs to a search with another sort; start again without it.");
            }

            var key = json["k"]?.DeepClone();
            if (sort.TrimStart('-') == "name" && (key is not JsonValue k || !k.TryGetValue<string>(out _)))
            {
                throw new FormatException();
            }

            return new SearchCursor(key, Guid.ParseExact(json["id"]!.GetValue<string>(), "N"));
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or NullReferenceException or System.Text.Json.JsonException)
        {
            throw ApiProblems.CursorMalformed.Problem("The cursor is not one this API returned.");
        }
    }
}
