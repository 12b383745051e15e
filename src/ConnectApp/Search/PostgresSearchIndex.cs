using System.Text.Json.Nodes;
using ConnectApp.Fields;
using ConnectApp.Messaging;
using ConnectApp.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace ConnectApp.Search;

/// <summary>
/// The default engine: <c>search_documents</c> in the app's own database. The table is a derived copy and is exempt
/// from row-level security (ADR 10): its GIN indexes are only usable without a policy. Tenant isolation rests on
/// <see cref="TenantSql"/>, the only way this class writes a statement over the table: each starts from
/// <c>tenant_id = @tenant</c>. Free text is a trigram-indexed substring match on name, email and id, or a full-text
/// match on the words of the name and text values; value filters are jsonb containment (GIN) or typed comparisons;
/// paging is a keyset cursor on (sort key, id), never OFFSET; totals are counted up to <see cref="SearchResult.TotalCap"/>.
/// </summary>
internal sealed class PostgresSearchIndex(NpgsqlDataSource dataSource) : ISearchIndex
{
    public Task EnsureCreatedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task UpsertAsync(Guid tenantId, IReadOnlyList<IndexedRecord> documents, CancellationToken cancellationToken)
    {
        if (documents.Count == 0)
        {
            return;
        }

        var sql = new TenantSql(tenantId);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = sql.Command(connection, _ =>
            $$"""
            INSERT INTO search_documents AS s (tenant_id, record_id, entity, external_id, name, name_sort, email, search_text, text_vector,
                                               organization_ids, field_values, version, updated_at, indexed_at)
            SELECT @tenant, d.id, d.entity, d.external_id, d.name, lower(d.name), d.email,
                   lower(d.name || E'\n' || coalesce(d.email, '') || E'\n' || d.external_id), to_tsvector('simple', d.words),
                   CASE WHEN d.orgs = '' THEN '{}'::uuid[] ELSE string_to_array(d.orgs, ',')::uuid[] END, d.vals::jsonb, d.version, d.updated_at, clock_timestamp()
            FROM unnest(@ids, @entities, @externals, @names, @emails, @words, @orgs, @vals, @versions, @updated)
                 AS d(id, entity, external_id, name, email, words, orgs, vals, version, updated_at)
            {{UpsertConflict}}
            """);
        command.Parameters.AddWithValue("ids", documents.Select(d => d.RecordId).ToArray());
        command.Parameters.AddWithValue("entities", documents.Select(d => d.Entity.ToString()).ToArray());
        command.Parameters.AddWithValue("externals", documents.Select(d => d.ExternalId).ToArray());
        command.Parameters.AddWithValue("names", documents.Select(d => d.Name).ToArray());
        command.Parameters.Add(new NpgsqlParameter("emails", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = documents.Select(d => (object?)d.Email ?? DBNull.Value).ToArray() });
        command.Parameters.AddWithValue("words", documents.Select(d => d.Words).ToArray());
        command.Parameters.AddWithValue("orgs", documents.Select(d => string.Join(',', d.OrganizationIds)).ToArray());
        command.Parameters.AddWithValue("vals", documents.Select(d => d.Values.ToJsonString()).ToArray());
        command.Parameters.AddWithValue("versions", documents.Select(d => d.Version).ToArray());
        command.Parameters.AddWithValue("updated", documents.Select(d => d.UpdatedAt).ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Version guard: a document older than the one indexed never replaces it (duplicates and reordering are harmless).</summary>
    private const string UpsertConflict = """
        ON CONFLICT (tenant_id, record_id) DO UPDATE SET
            entity = EXCLUDED.entity, external_id = EXCLUDED.external_id, name = EXCLUDED.name, name_sort = EXCLUDED.name_sort,
            email = EXCLUDED.email, search_text = EXCLUDED.search_text, text_vector = EXCLUDED.text_vector,
            organization_ids = EXCLUDED.organization_ids, field_values = EXCLUDED.field_values, version = EXCLUDED.version,
            updated_at = EXCLUDED.updated_at, indexed_at = EXCLUDED.indexed_at
        WHERE s.version <= EXCLUDED.version
        """;

    /// <summary>
    /// The document of a record, built by PostgreSQL from <c>records</c>, <c>memberships</c> and the text fields'
    /// definitions (the same document <see cref="SearchDocuments.BuildAsync"/> builds in .NET for other engines), for
    /// the records of <c>batch</c> (a CTE the caller defines). Read under the tenant's row-level security.
    /// </summary>
    private const string BuildFromRecords = """
        text_fields AS (SELECT coalesce(array_agg(f.id::text), '{}') AS ids FROM field_definitions f WHERE f.tenant_id = @tenant AND f.type IN ('Text', 'Paragraph')),
        upserted AS (
            INSERT INTO search_documents AS s (tenant_id, record_id, entity, external_id, name, name_sort, email, search_text, text_vector,
                                               organization_ids, field_values, version, updated_at, indexed_at)
            SELECT @tenant, b.id, b.entity, b.external_id, b.name, lower(b.name), b.email,
                   lower(b.name || E'\n' || coalesce(b.email, '') || E'\n' || b.external_id),
                   to_tsvector('simple', b.name || coalesce(E'\n' || (SELECT string_agg(v.value #>> '{}', E'\n') FROM jsonb_each(b.field_values) v
                                                                       WHERE v.key = ANY(t.ids) AND jsonb_typeof(v.value) = 'string'), '')),
                   CASE WHEN b.entity = 'Customer'
                        THEN coalesce((SELECT array_agg(m.organization_id ORDER BY m.organization_id) FROM memberships m
                                       WHERE m.tenant_id = @tenant AND m.customer_id = b.id), '{}')
                        ELSE '{}' END,
                   b.field_values, b.version, b.updated_at, clock_timestamp()
            FROM batch b CROSS JOIN text_fields t
            WHERE b.removed_at IS NULL
            ORDER BY b.id
            UPSERT_CONFLICT
            RETURNING 1),
        gone AS (
            -- removed from JSM (kept in PostgreSQL), or deleted: not searchable
            DELETE FROM search_documents s WHERE s.tenant_id = @tenant AND s.record_id = ANY(@gone_candidates)
              AND NOT EXISTS (SELECT 1 FROM batch b WHERE b.id = s.record_id AND b.removed_at IS NULL)
            RETURNING 1)
        """;

    /// <summary>
    /// Reindex step: the next <paramref name="limit"/> records of the tenant after <paramref name="after"/> (id order),
    /// their documents built and upserted in one statement. Returns how many records were read and the last id.
    /// </summary>
    public async Task<(int Count, Guid? LastId)> ReindexBatchAsync(Guid tenantId, Guid after, int limit, CancellationToken cancellationToken)
    {
        var sql = new TenantSql(tenantId);
        await using var connection = await OpenAsTenantAsync(tenantId, cancellationToken);
        await using var command = sql.Command(connection, _ =>
            $"""
            WITH batch AS (SELECT r.id, r.entity, r.external_id, r.name, r.email, r.field_values, r.version, r.updated_at, r.removed_at
                           FROM records r WHERE r.tenant_id = @tenant AND r.id > @after ORDER BY r.id LIMIT @limit),
            {BuildFromRecords.Replace("UPSERT_CONFLICT", UpsertConflict, StringComparison.Ordinal).Replace("ANY(@gone_candidates)", "ANY(ARRAY(SELECT b.id FROM batch b WHERE b.removed_at IS NOT NULL))", StringComparison.Ordinal)}
            SELECT (SELECT count(*) FROM batch), (SELECT b.id FROM batch b ORDER BY b.id DESC LIMIT 1), (SELECT count(*) FROM upserted), (SELECT count(*) FROM gone)
            """);
        command.Parameters.AddWithValue("after", after);
        command.Parameters.AddWithValue("limit", limit);
        command.CommandTimeout = 300;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return ((int)reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetGuid(1));
    }

    /// <summary>
    /// The mirror's step: makes the documents of <paramref name="recordIds"/> match PostgreSQL (upserted, or deleted when
    /// the record is gone) and marks <paramref name="outboxIds"/> applied, in one statement (so one transaction).
    /// </summary>
    public async Task ApplyFromRecordsAsync(Guid tenantId, IReadOnlyCollection<Guid> recordIds, IReadOnlyCollection<long> outboxIds, CancellationToken cancellationToken)
    {
        var sql = new TenantSql(tenantId);
        await using var connection = await OpenAsTenantAsync(tenantId, cancellationToken);
        await using var command = sql.Command(connection, _ =>
            $"""
            WITH batch AS (SELECT r.id, r.entity, r.external_id, r.name, r.email, r.field_values, r.version, r.updated_at, r.removed_at
                           FROM records r WHERE r.tenant_id = @tenant AND r.id = ANY(@gone_candidates)),
            {BuildFromRecords.Replace("UPSERT_CONFLICT", UpsertConflict, StringComparison.Ordinal)},
            applied AS (UPDATE outbox_messages SET {MessageListener.MarkAppliedSet} WHERE id = ANY(@outbox_ids) AND tenant_id = @tenant AND applied_at IS NULL RETURNING 1)
            SELECT (SELECT count(*) FROM upserted), (SELECT count(*) FROM gone), (SELECT count(*) FROM applied)
            """);
        command.Parameters.AddWithValue("gone_candidates", recordIds.ToArray());
        command.Parameters.AddWithValue("outbox_ids", outboxIds.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task DeleteAsync(Guid tenantId, Guid recordId, CancellationToken cancellationToken)
    {
        var sql = new TenantSql(tenantId).And("record_id = @id", new NpgsqlParameter("id", recordId));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = sql.Command(connection, from => $"DELETE FROM {from}");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task DeleteTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var sql = new TenantSql(tenantId);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = sql.Command(connection, from => $"DELETE FROM {from}");
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<Guid, int>> VersionsAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var sql = new TenantSql(tenantId);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = sql.Command(connection, from => $"SELECT record_id, version FROM {from}");
        var versions = new Dictionary<Guid, int>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            versions[reader.GetGuid(0)] = reader.GetInt32(1);
        }

        return versions;
    }

    public async Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        var sql = new TenantSql(query.TenantId).And("entity = @entity", new NpgsqlParameter("entity", query.Entity.ToString()));
        AddConditions(query, sql);

        var (sortExpression, keyType) = query.Sort.FieldId is { } sortField
            ? ($"COALESCE(field_values -> '{sortField}', 'null'::jsonb)", NpgsqlDbType.Jsonb)
            : ("name_sort", NpgsqlDbType.Text);
        var direction = query.Sort.Descending ? "DESC" : "ASC";
        string? cursor = null;
        var cursorParameters = new List<NpgsqlParameter>();
        if (query.After is { } after)
        {
            cursor = $"({sortExpression}, record_id) {(query.Sort.Descending ? "<" : ">")} (@after_key, @after_id)";
            cursorParameters.Add(new NpgsqlParameter("after_key", keyType)
            {
                Value = keyType == NpgsqlDbType.Jsonb ? (after.Key?.ToJsonString() ?? "null") : (object?)after.Key?.GetValue<string>() ?? string.Empty,
            });
            cursorParameters.Add(new NpgsqlParameter("after_id", after.Id));
        }

        // Totals are counted up to the cap (ADR 10): an exact count of a broad match costs as much as reading every match,
        // which no one pages through. One statement takes up to cap + 1 matches in whatever order is cheapest (for few
        // matches: their GIN indexes) and answers the count and, when they are all there (≤ cap), the page sorted from
        // them, so the indexes are read once. Beyond the cap, a second statement walks the sort index, which finds a page
        // of dense matches at once (and is why the first one must not be sorted: the planner would walk that index for a
        // rare LIKE too, 2 s for a text that matches nothing at a million customers).
        var orderBy = $"ORDER BY {sortExpression} {direction}, record_id {direction} LIMIT @limit";
        var columns = $"record_id, entity, external_id, name, email, organization_ids, field_values::text, version, updated_at, {sortExpression}::text";
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var hits = new List<SearchHit>(query.Limit + 1);
        long? counted = null;
        // The first statement may also find the matches of a number range through the sort keys (a redundant condition:
        // the typed one stays): with it the planner can walk the range's keys and stop at cap + 1 matches instead of
        // building the bitmaps of every other condition first (two select options of 300,000 customers each with a score
        // range: 67 ms, 13 ms with it); a rarer condition (a LIKE) still drives. Only here: for a sorted page it could
        // choose to read the whole range and sort it.
        var counting = sql.Clone();
        for (var i = 0; i < query.Filters.Count; i++)
        {
            var bounds = KeyBounds(query.Filters[i], i).ToList();
            if (bounds.Count > 0)
            {
                counting.And($"record_id IN (SELECT k.record_id FROM search_sort_keys k WHERE k.tenant_id = @tenant AND k.field_id = @f{i}_field::uuid AND {string.Join(" AND ", bounds)})");
            }
        }

        await using (var first = counting.Command(connection, from =>
            $"""
            WITH matches AS MATERIALIZED (
                SELECT record_id, entity, external_id, name, email, organization_ids, field_values, version, updated_at, name_sort FROM {from} LIMIT @count_limit)
            SELECT {columns}, (SELECT count(*) FROM matches) FROM matches
            WHERE {cursor ?? "true"}
            {orderBy}
            """))
        {
            first.Parameters.Add(new NpgsqlParameter("count_limit", SearchResult.TotalCap + 1));
            first.Parameters.Add(new NpgsqlParameter("limit", query.Limit + 1));
            first.Parameters.AddRange(cursorParameters.Select(p => p.Clone()).ToArray());
            await using var reader = await first.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                counted = reader.GetInt64(10);
                hits.Add(Hit(reader, query));
            }
        }

        if (counted is null)
        {
            // An empty page: no match at all without a cursor; with one, past the end of the matches taken (count them).
            await using var count = counting.Command(connection, from => $"SELECT count(*) FROM (SELECT 1 FROM {from} LIMIT @count_limit) matches");
            count.Parameters.Add(new NpgsqlParameter("count_limit", SearchResult.TotalCap + 1));
            counted = cursor is null ? 0 : (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        if (counted > SearchResult.TotalCap && query.Sort.FieldId is { } keyField && query.Sort.FieldType is FieldType.Number or FieldType.Date or FieldType.Checkbox)
        {
            hits.Clear();
            await PageBySortKeysAsync(connection, sql, query, keyField, columns, hits, cancellationToken);
        }
        else if (counted > SearchResult.TotalCap)
        {
            hits.Clear();
            var page = sql.Clone();
            if (cursor is not null)
            {
                page.And(cursor, [.. cursorParameters]);
            }

            await using var select = page.Command(connection, from => $"SELECT {columns} FROM {from} {orderBy}");
            select.Parameters.Add(new NpgsqlParameter("limit", query.Limit + 1));
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                hits.Add(Hit(reader, query));
            }
        }

        var total = counted.Value;
        var more = hits.Count > query.Limit;
        return new SearchResult(Math.Min(total, SearchResult.TotalCap), total <= SearchResult.TotalCap, more ? hits.GetRange(0, query.Limit) : hits, more);
    }

    /// <summary>
    /// The page of a broad match (more than the cap) sorted by a number, date or checkbox field, without sorting every
    /// match: the documents with a value in (value, id) order by walking <c>search_sort_keys</c> (each checked against the
    /// query's conditions; a number range on the sorted field also bounds the walk), and those without one (sort key
    /// null: first ascending, last descending) by id. The same order and keys as <c>ORDER BY COALESCE(field_values -> f,
    /// 'null'), record_id</c>: the keys table holds every number, boolean and short string value, which is every value
    /// these field types store. Like the name index walk, it finds a page of dense matches at once.
    /// </summary>
    private static async Task PageBySortKeysAsync(NpgsqlConnection connection, TenantSql sql, SearchQuery query, Guid field, string columns, List<SearchHit> hits, CancellationToken cancellationToken)
    {
        var descending = query.Sort.Descending;
        var direction = descending ? "DESC" : "ASC";
        var afterKey = query.After is { } after ? (after.Key?.ToJsonString() ?? "null") : null;
        var afterIsNull = afterKey == "null";
        var want = query.Limit + 1;

        async Task ReadAsync(NpgsqlCommand command)
        {
            command.Parameters.Add(new NpgsqlParameter("sort_field", NpgsqlDbType.Uuid) { Value = field });
            command.Parameters.Add(new NpgsqlParameter("limit", want - hits.Count));
            if (query.After is { } cursor)
            {
                command.Parameters.Add(new NpgsqlParameter("after_key", NpgsqlDbType.Jsonb) { Value = afterKey });
                command.Parameters.Add(new NpgsqlParameter("after_id", cursor.Id));
            }

            await using (command)
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    hits.Add(Hit(reader, query));
                }
            }
        }

        // Documents whose sort key is null (no value), by id.
        Task WithoutValueAsync(bool useCursor) => ReadAsync(sql.Clone()
            .And("COALESCE(field_values -> @sort_field::text, 'null'::jsonb) = 'null'::jsonb")
            .And(useCursor ? $"record_id {(descending ? "<" : ">")} @after_id" : "true")
            .Command(connection, from => $"SELECT {columns} FROM {from} ORDER BY record_id {direction} LIMIT @limit"));

        // Documents with a value, in (value, id) order from the keys' index; each one checked against every condition.
        Task WithValueAsync(bool useCursor)
        {
            var walk = new List<string> { "k.tenant_id = @tenant", "k.field_id = @sort_field" };
            if (useCursor)
            {
                walk.Add($"(k.value, k.record_id) {(descending ? "<" : ">")} (@after_key, @after_id)");
            }

            for (var i = 0; i < query.Filters.Count; i++)
            {
                var f = query.Filters[i];
                if (f.FieldId == field)
                {
                    walk.AddRange(KeyBounds(f, i));
                }
            }

            return ReadAsync(sql.Command(connection, from =>
                $"""
                SELECT d.* FROM search_sort_keys k
                CROSS JOIN LATERAL (SELECT {columns} FROM {from} AND record_id = k.record_id) d
                WHERE {string.Join(" AND ", walk)}
                ORDER BY k.value {direction}, k.record_id {direction} LIMIT @limit
                """));
        }

        if (descending)
        {
            if (!afterIsNull)
            {
                await WithValueAsync(query.After is not null);
            }

            if (hits.Count < want)
            {
                await WithoutValueAsync(afterIsNull);
            }
        }
        else
        {
            if (query.After is null || afterIsNull)
            {
                await WithoutValueAsync(afterIsNull);
            }

            if (hits.Count < want)
            {
                await WithValueAsync(query.After is not null && !afterIsNull);
            }
        }
    }

    /// <summary>
    /// A number range filter's bounds on <c>k.value</c> (search_sort_keys), as the jsonb parameters AddConditions adds:
    /// jsonb orders numbers numerically, and every number value has a key, so the keys within the bounds are a superset
    /// of the documents the typed filter keeps (a one-sided bound also lets through keys of other JSON types; the
    /// documents' own condition still decides).
    /// </summary>
    private static IEnumerable<string> KeyBounds(SearchFilter f, int i)
    {
        if (f.Kind != FilterKind.Range || f.Type != FieldType.Number)
        {
            yield break;
        }

        foreach (var (op, bound, name) in RangeBounds(f))
        {
            if (bound is not null)
            {
                yield return $"k.value {op} @f{i}_{name}_key";
            }
        }
    }

    private static (string Op, JsonNode? Bound, string Name)[] RangeBounds(SearchFilter f) =>
        [(">=", f.Gte, "gte"), (">", f.Gt, "gt"), ("<=", f.Lte, "lte"), ("<", f.Lt, "lt")];

    private static SearchHit Hit(NpgsqlDataReader reader, SearchQuery query)
    {
        var record = new IndexedRecord(
            reader.GetGuid(0), Enum.Parse<RecordEntity>(reader.GetString(1)), reader.GetString(2), reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<Guid[]>(5), JsonNode.Parse(reader.GetString(6))!.AsObject(),
            reader.GetInt32(7), reader.GetFieldValue<DateTimeOffset>(8), string.Empty);
        var key = query.Sort.FieldId is null ? JsonValue.Create(reader.GetString(9)) : JsonNode.Parse(reader.GetString(9));
        return new SearchHit(record, key);
    }

    private static void AddConditions(SearchQuery query, TenantSql sql)
    {
        if (!string.IsNullOrWhiteSpace(query.Text))
        {
            var text = query.Text.Trim();
            sql.And("search_text LIKE @text_pattern OR text_vector @@ plainto_tsquery('simple', @text)",
                new NpgsqlParameter("text_pattern", "%" + EscapeLike(text.ToLowerInvariant()) + "%"),
                new NpgsqlParameter("text", text));
        }

        if (query.MemberOfOrganization is { } org)
        {
            sql.And("organization_ids @> ARRAY[@member_of]::uuid[]", new NpgsqlParameter("member_of", org));
        }

        if (query.RecordIds is { } ids)
        {
            sql.And("record_id = ANY(@record_ids)", new NpgsqlParameter("record_ids", ids.ToArray()));
        }

        for (var i = 0; i < query.Filters.Count; i++)
        {
            var f = query.Filters[i];
            var field = $"@f{i}_field";
            var fieldParameter = new NpgsqlParameter($"f{i}_field", f.FieldId.ToString());
            switch (f.Kind)
            {
                case FilterKind.Equals:
                case FilterKind.AnyOf:
                    var alternatives = new List<string>();
                    var values = new List<NpgsqlParameter>();
                    for (var v = 0; v < f.Values.Count; v++)
                    {
                        // Containment: {"<id>": value}, or {"<id>": [option]} for a multi-select; served by the jsonb_path_ops index.
                        var value = f.Type == FieldType.MultiSelect ? new JsonArray(f.Values[v].DeepClone()) : f.Values[v].DeepClone();
                        var json = new JsonObject { [f.FieldId.ToString()] = value }.ToJsonString();
                        alternatives.Add($"field_values @> @f{i}_v{v}");
                        values.Add(new NpgsqlParameter($"f{i}_v{v}", NpgsqlDbType.Jsonb) { Value = json });
                    }

                    sql.And(alternatives.Count == 0 ? "false" : string.Join(" OR ", alternatives), [.. values]);
                    break;
                case FilterKind.Contains:
                    sql.And($"lower(field_values ->> {field}) LIKE @f{i}_text",
                        fieldParameter, new NpgsqlParameter($"f{i}_text", "%" + EscapeLike(f.Text!.ToLowerInvariant()) + "%"));
                    break;
                case FilterKind.Range:
                    var typed = f.Type == FieldType.Number
                        ? $"(CASE WHEN jsonb_typeof(field_values -> {field}) = 'number' THEN (field_values ->> {field})::numeric END)"
                        : $"(CASE WHEN jsonb_typeof(field_values -> {field}) = 'string' THEN (field_values ->> {field}) COLLATE \"C\" END)";
                    sql.Use(fieldParameter);
                    foreach (var (op, bound, name) in RangeBounds(f))
                    {
                        if (bound is null)
                        {
                            continue;
                        }

                        if (f.Type == FieldType.Number)
                        {
                            // The bound as jsonb too, for the sort keys (KeyBounds).
                            sql.Use(new NpgsqlParameter($"f{i}_{name}_key", NpgsqlDbType.Jsonb) { Value = bound.GetValue<decimal>().ToString(System.Globalization.CultureInfo.InvariantCulture) });
                        }

                        sql.And($"{typed} {op} @f{i}_{name}", f.Type == FieldType.Number
                            ? new NpgsqlParameter($"f{i}_{name}", NpgsqlDbType.Numeric) { Value = bound.GetValue<decimal>() }
                            : new NpgsqlParameter($"f{i}_{name}", NpgsqlDbType.Text) { Value = bound.GetValue<string>() });
                    }

                    break;
                case FilterKind.Empty:
                    sql.And($"NOT jsonb_exists(field_values, {field})", fieldParameter);
                    break;
                case FilterKind.NotEmpty:
                    sql.And($"jsonb_exists(field_values, {field})", fieldParameter);
                    break;
                default:
                    throw new InvalidOperationException("Unknown filter kind " + f.Kind);
            }
        }
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    /// <summary>A connection acting for <paramref name="tenantId"/>, for statements that read the tenant's records (under row-level security).</summary>
    private async Task<NpgsqlConnection> OpenAsTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = TenantConnectionInterceptor.Command(connection, tenantId);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The only way this engine writes a statement over <c>search_documents</c>, which has no row-level security: it
    /// is made for one tenant (never <see cref="Guid.Empty"/>), its conditions start with <c>tenant_id = @tenant</c>
    /// and can only be added to with AND, and a statement gets the table only as the <c>FROM</c> text it hands out
    /// (<c>search_documents WHERE tenant_id = @tenant AND …</c>), or refers to <c>@tenant</c> itself (inserts, whose
    /// conflict target is (tenant_id, record_id)). A statement that does neither is refused before it runs.
    /// </summary>
    private sealed class TenantSql
    {
        private readonly List<string> _conditions;
        private readonly List<NpgsqlParameter> _parameters;

        public TenantSql(Guid tenantId)
            : this(["tenant_id = @tenant"], [new NpgsqlParameter("tenant", NpgsqlDbType.Uuid) { Value = tenantId }])
        {
            if (tenantId == Guid.Empty)
            {
                throw new ArgumentException("A search statement needs a tenant.", nameof(tenantId));
            }
        }

        private TenantSql(List<string> conditions, List<NpgsqlParameter> parameters)
        {
            _conditions = conditions;
            _parameters = parameters;
        }

        private string From => "search_documents WHERE " + string.Join(" AND ", _conditions);

        /// <summary>Adds a condition (parenthesised, so an OR inside cannot escape the tenant condition).</summary>
        public TenantSql And(string condition, params NpgsqlParameter[] parameters)
        {
            _conditions.Add("(" + condition + ")");
            _parameters.AddRange(parameters);
            return this;
        }

        /// <summary>Parameters that the next conditions refer to.</summary>
        public TenantSql Use(params NpgsqlParameter[] parameters)
        {
            _parameters.AddRange(parameters);
            return this;
        }

        public TenantSql Clone() => new([.. _conditions], [.. _parameters.Select(p => p.Clone())]);

        public NpgsqlCommand Command(NpgsqlConnection connection, Func<string, string> statement)
        {
            var command = new NpgsqlCommand(Checked(statement), connection);
            command.Parameters.AddRange(_parameters.Select(p => p.Clone()).ToArray());
            return command;
        }

        private string Checked(Func<string, string> statement)
        {
            var from = From;
            var text = statement(from);
            if (!text.Contains(from, StringComparison.Ordinal) && !text.Contains("@tenant", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("A statement over search_documents must be scoped to its tenant.");
            }

            return text;
        }
    }
}
