using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Fields;
using Npgsql;
using NpgsqlTypes;

namespace ConnectApp.Search;

/// <summary>
/// The default engine: <c>search_documents</c> in the app's own database, under row-level security (every connection
/// sets <c>app.tenant_id</c> first). Free text is a trigram-indexed substring match on name, email and id, or a
/// full-text match on the words of the name and text values; value filters are jsonb containment (GIN) or typed
/// comparisons; paging is a keyset cursor on (sort key, id), never OFFSET.
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

        await using var connection = await OpenAsync(tenantId, cancellationToken);
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO search_documents AS s (tenant_id, record_id, entity, external_id, name, name_sort, email, search_text, text_vector,
                                               organization_ids, field_values, version, updated_at, indexed_at)
            SELECT @tenant, d.id, d.entity, d.external_id, d.name, lower(d.name), d.email,
                   lower(d.name || E'\n' || coalesce(d.email, '') || E'\n' || d.external_id), to_tsvector('simple', d.words),
                   CASE WHEN d.orgs = '' THEN '{}'::uuid[] ELSE string_to_array(d.orgs, ',')::uuid[] END, d.vals::jsonb, d.version, d.updated_at, clock_timestamp()
            FROM unnest(@ids, @entities, @externals, @names, @emails, @words, @orgs, @vals, @versions, @updated)
                 AS d(id, entity, external_id, name, email, words, orgs, vals, version, updated_at)
            ON CONFLICT (tenant_id, record_id) DO UPDATE SET
                entity = EXCLUDED.entity, external_id = EXCLUDED.external_id, name = EXCLUDED.name, name_sort = EXCLUDED.name_sort,
                email = EXCLUDED.email, search_text = EXCLUDED.search_text, text_vector = EXCLUDED.text_vector,
                organization_ids = EXCLUDED.organization_ids, field_values = EXCLUDED.field_values, version = EXCLUDED.version,
                updated_at = EXCLUDED.updated_at, indexed_at = EXCLUDED.indexed_at
            WHERE s.version <= EXCLUDED.version
            """, connection);
        command.Parameters.AddWithValue("tenant", tenantId);
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

    public async Task DeleteAsync(Guid tenantId, Guid recordId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(tenantId, cancellationToken);
        await using var command = new NpgsqlCommand("DELETE FROM search_documents WHERE tenant_id = @tenant AND record_id = @id", connection);
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("id", recordId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task DeleteTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(tenantId, cancellationToken);
        await using var command = new NpgsqlCommand("DELETE FROM search_documents WHERE tenant_id = @tenant", connection);
        command.Parameters.AddWithValue("tenant", tenantId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyDictionary<Guid, int>> VersionsAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(tenantId, cancellationToken);
        await using var command = new NpgsqlCommand("SELECT record_id, version FROM search_documents WHERE tenant_id = @tenant", connection);
        command.Parameters.AddWithValue("tenant", tenantId);
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
        await using var connection = await OpenAsync(query.TenantId, cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        var where = new StringBuilder("tenant_id = @tenant AND entity = @entity");
        var parameters = new List<NpgsqlParameter>
        {
            new("tenant", query.TenantId),
            new("entity", query.Entity.ToString()),
        };
        AddConditions(query, where, parameters);

        var (sortExpression, keyType) = query.Sort.FieldId is { } sortField
            ? ($"COALESCE(field_values -> '{sortField}', 'null'::jsonb)", NpgsqlDbType.Jsonb)
            : ("name_sort", NpgsqlDbType.Text);
        var direction = query.Sort.Descending ? "DESC" : "ASC";
        var page = new StringBuilder(where.ToString());
        var pageParameters = new List<NpgsqlParameter>(parameters.Select(p => p.Clone()));
        if (query.After is { } after)
        {
            page.Append(CultureInfo.InvariantCulture, $" AND ({sortExpression}, record_id) {(query.Sort.Descending ? "<" : ">")} (@after_key, @after_id)");
            pageParameters.Add(new NpgsqlParameter("after_key", keyType)
            {
                Value = keyType == NpgsqlDbType.Jsonb ? (after.Key?.ToJsonString() ?? "null") : (object?)after.Key?.GetValue<string>() ?? string.Empty,
            });
            pageParameters.Add(new NpgsqlParameter("after_id", after.Id));
        }

        var select = new NpgsqlBatchCommand(
            $"""
            SELECT record_id, entity, external_id, name, email, organization_ids, field_values::text, version, updated_at, {sortExpression}::text
            FROM search_documents WHERE {page}
            ORDER BY {sortExpression} {direction}, record_id {direction}
            LIMIT @limit
            """);
        select.Parameters.AddRange(pageParameters.ToArray());
        select.Parameters.Add(new NpgsqlParameter("limit", query.Limit + 1));
        var count = new NpgsqlBatchCommand($"SELECT count(*) FROM search_documents WHERE {where}");
        count.Parameters.AddRange(parameters.ToArray());
        batch.BatchCommands.Add(select);
        batch.BatchCommands.Add(count);

        var hits = new List<SearchHit>(query.Limit + 1);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var record = new IndexedRecord(
                reader.GetGuid(0), Enum.Parse<RecordEntity>(reader.GetString(1)), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<Guid[]>(5), JsonNode.Parse(reader.GetString(6))!.AsObject(),
                reader.GetInt32(7), reader.GetFieldValue<DateTimeOffset>(8), string.Empty);
            var key = query.Sort.FieldId is null ? JsonValue.Create(reader.GetString(9)) : JsonNode.Parse(reader.GetString(9));
            hits.Add(new SearchHit(record, key));
        }

        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var total = reader.GetInt64(0);
        var more = hits.Count > query.Limit;
        return new SearchResult(total, more ? hits.GetRange(0, query.Limit) : hits, more);
    }

    private static void AddConditions(SearchQuery query, StringBuilder where, List<NpgsqlParameter> parameters)
    {
        if (!string.IsNullOrWhiteSpace(query.Text))
        {
            var text = query.Text.Trim();
            where.Append(" AND (search_text LIKE @text_pattern OR text_vector @@ plainto_tsquery('simple', @text))");
            parameters.Add(new NpgsqlParameter("text_pattern", "%" + EscapeLike(text.ToLowerInvariant()) + "%"));
            parameters.Add(new NpgsqlParameter("text", text));
        }

        if (query.MemberOfOrganization is { } org)
        {
            where.Append(" AND organization_ids @> ARRAY[@member_of]::uuid[]");
            parameters.Add(new NpgsqlParameter("member_of", org));
        }

        if (query.RecordIds is { } ids)
        {
            where.Append(" AND record_id = ANY(@record_ids)");
            parameters.Add(new NpgsqlParameter("record_ids", ids.ToArray()));
        }

        for (var i = 0; i < query.Filters.Count; i++)
        {
            var f = query.Filters[i];
            var field = $"@f{i}_field";
            parameters.Add(new NpgsqlParameter($"f{i}_field", f.FieldId.ToString()));
            switch (f.Kind)
            {
                case FilterKind.Equals:
                case FilterKind.AnyOf:
                    var alternatives = new List<string>();
                    for (var v = 0; v < f.Values.Count; v++)
                    {
                        // Containment: {"<id>": value}, or {"<id>": [option]} for a multi-select; served by the jsonb_path_ops index.
                        var value = f.Type == FieldType.MultiSelect ? new JsonArray(f.Values[v].DeepClone()) : f.Values[v].DeepClone();
                        var json = new JsonObject { [f.FieldId.ToString()] = value }.ToJsonString();
                        alternatives.Add($"field_values @> @f{i}_v{v}");
                        parameters.Add(new NpgsqlParameter($"f{i}_v{v}", NpgsqlDbType.Jsonb) { Value = json });
                    }

                    where.Append(" AND (").Append(alternatives.Count == 0 ? "false" : string.Join(" OR ", alternatives)).Append(')');
                    break;
                case FilterKind.Contains:
                    where.Append(CultureInfo.InvariantCulture, $" AND lower(field_values ->> {field}) LIKE @f{i}_text");
                    parameters.Add(new NpgsqlParameter($"f{i}_text", "%" + EscapeLike(f.Text!.ToLowerInvariant()) + "%"));
                    break;
                case FilterKind.Range:
                    var typed = f.Type == FieldType.Number
                        ? $"(CASE WHEN jsonb_typeof(field_values -> {field}) = 'number' THEN (field_values ->> {field})::numeric END)"
                        : $"(CASE WHEN jsonb_typeof(field_values -> {field}) = 'string' THEN (field_values ->> {field}) COLLATE \"C\" END)";
                    foreach (var (op, bound, name) in new[] { (">=", f.Gte, "gte"), (">", f.Gt, "gt"), ("<=", f.Lte, "lte"), ("<", f.Lt, "lt") })
                    {
                        if (bound is null)
                        {
                            continue;
                        }

                        where.Append(CultureInfo.InvariantCulture, $" AND {typed} {op} @f{i}_{name}");
                        parameters.Add(f.Type == FieldType.Number
                            ? new NpgsqlParameter($"f{i}_{name}", NpgsqlDbType.Numeric) { Value = bound.GetValue<decimal>() }
                            : new NpgsqlParameter($"f{i}_{name}", NpgsqlDbType.Text) { Value = bound.GetValue<string>() });
                    }

                    break;
                case FilterKind.Empty:
                    where.Append(CultureInfo.InvariantCulture, $" AND NOT jsonb_exists(field_values, {field})");
                    break;
                case FilterKind.NotEmpty:
                    where.Append(CultureInfo.InvariantCulture, $" AND jsonb_exists(field_values, {field})");
                    break;
                default:
                    throw new InvalidOperationException("Unknown filter kind " + f.Kind);
            }
        }
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    /// <summary>A connection that acts for <paramref name="tenantId"/>: row-level security shows and accepts that tenant's rows only.</summary>
    private async Task<NpgsqlConnection> OpenAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = new NpgsqlCommand("SELECT set_config('app.tenant_id', @tenant, false)", connection);
            command.Parameters.AddWithValue("tenant", tenantId.ToString());
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
