using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ConnectApp.Fields;
using Microsoft.Extensions.Options;

namespace ConnectApp.Search;

/// <summary>
/// The Elasticsearch engine, written thin on HttpClient and System.Text.Json (no .NET Elasticsearch client restores
/// from this machine's package source: docs/adr/0010). One alias per environment in front of a versioned index;
/// documents routed by tenant (a tenant's search touches one shard) and filtered by tenant in every query; field
/// values as nested typed sub-fields (<c>values.f</c> field id, <c>.k</c> keyword, <c>.t</c> lowercased text,
/// <c>.n</c> number, <c>.b</c> boolean) so thousands of tenants' fields never grow the mapping; writes are bulk NDJSON
/// with external versions (<c>external_gte</c>: an older version is refused by Elasticsearch itself); a tenant is
/// removed with delete-by-query.
/// </summary>
internal sealed class ElasticsearchSearchIndex(HttpClient http, IOptions<SearchOptions> options, ILogger<ElasticsearchSearchIndex> logger) : ISearchIndex
{
    public const string HttpClientName = "elasticsearch";

    private string Alias => options.Value.Alias;

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"_alias/{Alias}"), cancellationToken);
        if (head.StatusCode == HttpStatusCode.OK)
        {
            return;
        }

        var index = $"{Alias}-{DateTime.UtcNow:yyyyMMddHHmmss}";
        var body = Mapping();
        body["aliases"] = new JsonObject { [Alias] = new JsonObject { ["is_write_index"] = true } };
        using var create = await http.PutAsync(index, Json(body), cancellationToken);
        if (!create.IsSuccessStatusCode && create.StatusCode != HttpStatusCode.BadRequest)
        {
            // 400 resource_already_exists: another process made it first.
            throw await FailureAsync("create index", create, cancellationToken);
        }
    }

    public async Task UpsertAsync(Guid tenantId, IReadOnlyList<IndexedRecord> documents, CancellationToken cancellationToken)
    {
        if (documents.Count == 0)
        {
            return;
        }

        var ndjson = new StringBuilder();
        foreach (var d in documents)
        {
            var action = new JsonObject
            {
                ["index"] = new JsonObject
                {
                    ["_index"] = Alias,
                    ["_id"] = DocumentId(tenantId, d.RecordId),
                    ["routing"] = tenantId.ToString(),
                    ["version"] = d.Version,
                    ["version_type"] = "external_gte",
                },
            };
            ndjson.Append(action.ToJsonString()).Append('\n').Append(Document(tenantId, d).ToJsonString()).Append('\n');
        }

        using var content = new StringContent(ndjson.ToString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-ndjson");
        using var response = await http.PostAsync("_bulk?refresh=wait_for", content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync("bulk", response, cancellationToken);
        }

        var result = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
        if (result["errors"]?.GetValue<bool>() == true)
        {
            // 409: the index already holds this or a newer version, which is what external_gte is for.
            var failed = result["items"]!.AsArray().Select(i => i!["index"]!).Where(i => i["status"]!.GetValue<int>() is >= 300 and not 409).ToList();
            if (failed.Count > 0)
            {
                throw new InvalidOperationException($"Elasticsearch refused {failed.Count} document(s): {failed[0]!["error"]?["type"]}");
            }
        }
    }

    public async Task DeleteAsync(Guid tenantId, Guid recordId, CancellationToken cancellationToken)
    {
        using var response = await http.DeleteAsync($"{Alias}/_doc/{DocumentId(tenantId, recordId)}?routing={tenantId}&refresh=wait_for", cancellationToken);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.NotFound)
        {
            throw await FailureAsync("delete", response, cancellationToken);
        }
    }

    public async Task DeleteTenantAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var query = new JsonObject { ["query"] = new JsonObject { ["term"] = new JsonObject { ["tenant_id"] = tenantId.ToString() } } };
        using var response = await http.PostAsync($"{Alias}/_delete_by_query?routing={tenantId}&refresh=true&conflicts=proceed", Json(query), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync("delete-by-query", response, cancellationToken);
        }
    }

    public async Task<IReadOnlyDictionary<Guid, int>> VersionsAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        var versions = new Dictionary<Guid, int>();
        JsonArray? after = null;
        while (true)
        {
            var body = new JsonObject
            {
                ["size"] = 5000,
                ["_source"] = new JsonArray("record_id", "version"),
                ["query"] = new JsonObject { ["term"] = new JsonObject { ["tenant_id"] = tenantId.ToString() } },
                ["sort"] = new JsonArray(new JsonObject { ["record_id"] = "asc" }),
            };
            if (after is not null)
            {
                body["search_after"] = after;
            }

            var hits = (await SearchRawAsync(tenantId, body, cancellationToken))["hits"]!["hits"]!.AsArray();
            foreach (var hit in hits)
            {
                versions[Guid.Parse(hit!["_source"]!["record_id"]!.GetValue<string>())] = hit["_source"]!["version"]!.GetValue<int>();
            }

            if (hits.Count < 5000)
            {
                return versions;
            }

            after = hits[^1]!["sort"]!.DeepClone().AsArray();
        }
    }

    public async Task<SearchResult> SearchAsync(SearchQuery query, CancellationToken cancellationToken)
    {
        var filter = new JsonArray
        {
            Term("tenant_id", query.TenantId.ToString()),
            Term("entity", query.Entity.ToString()),
        };
        if (query.Text is { } text)
        {
            filter.Add(new JsonObject
            {
                ["bool"] = new JsonObject
                {
                    ["should"] = new JsonArray
                    {
                        new JsonObject { ["wildcard"] = new JsonObject { ["search_text"] = new JsonObject { ["value"] = "*" + EscapeWildcard(text.ToLowerInvariant()) + "*" } } },
                        new JsonObject { ["match"] = new JsonObject { ["words"] = new JsonObject { ["query"] = text, ["operator"] = "and" } } },
                    },
                    ["minimum_should_match"] = 1,
                },
            });
        }

        if (query.MemberOfOrganization is { } org)
        {
            filter.Add(Term("organization_ids", org.ToString()));
        }

        if (query.RecordIds is { } ids)
        {
            filter.Add(new JsonObject { ["terms"] = new JsonObject { ["record_id"] = new JsonArray(ids.Select(i => (JsonNode)i.ToString()).ToArray()) } });
        }

        var mustNot = new JsonArray();
        foreach (var f in query.Filters)
        {
            var (clause, negate) = Clause(f);
            (negate ? mustNot : filter).Add(clause);
        }

        var order = query.Sort.Descending ? "desc" : "asc";
        var sortField = query.Sort.FieldId is { } sortId
            ? new JsonObject
            {
                [query.Sort.FieldType is FieldType.Number ? "values.n" : query.Sort.FieldType is FieldType.Checkbox ? "values.b" : "values.k"] = new JsonObject
                {
                    ["order"] = order,
                    ["missing"] = query.Sort.Descending ? "_last" : "_first",
                    ["mode"] = query.Sort.Descending ? "max" : "min",
                    ["nested"] = new JsonObject { ["path"] = "values", ["filter"] = Term("values.f", sortId.ToString()) },
                },
            }
            : new JsonObject { ["name_sort"] = order };
        var body = new JsonObject
        {
            ["size"] = query.Limit + 1,
            ["track_total_hits"] = SearchResult.TotalCap, // counted up to the cap; beyond it hits.total.relation is "gte"
            ["query"] = new JsonObject { ["bool"] = new JsonObject { ["filter"] = filter, ["must_not"] = mustNot } },
            ["sort"] = new JsonArray(sortField, new JsonObject { ["record_id"] = order }),
        };
        if (query.After is { } after)
        {
            body["search_after"] = new JsonArray(after.Key?.DeepClone(), after.Id.ToString());
        }

        var result = await SearchRawAsync(query.TenantId, body, cancellationToken);
        var hits = result["hits"]!["hits"]!.AsArray().Select(h =>
        {
            var s = h!["_source"]!;
            var record = new IndexedRecord(
                Guid.Parse(s["record_id"]!.GetValue<string>()), Enum.Parse<RecordEntity>(s["entity"]!.GetValue<string>()), s["external_id"]!.GetValue<string>(),
                s["name"]!.GetValue<string>(), s["email"]?.GetValue<string>(),
                s["organization_ids"]?.AsArray().Select(o => Guid.Parse(o!.GetValue<string>())).ToList() ?? [],
                s["source_values"]?.DeepClone().AsObject() ?? [], s["version"]!.GetValue<int>(), s["updated_at"]!.GetValue<DateTimeOffset>(), string.Empty);
            return new SearchHit(record, h["sort"]![0]?.DeepClone());
        }).ToList();
        var total = result["hits"]!["total"]!;
        var more = hits.Count > query.Limit;
        return new SearchResult(total["value"]!.GetValue<long>(), total["relation"]?.GetValue<string>() != "gte", more ? hits.GetRange(0, query.Limit) : hits, more);
    }

    private static (JsonObject Clause, bool Negate) Clause(SearchFilter f)
    {
        var field = Term("values.f", f.FieldId.ToString());
        JsonObject Nested(params JsonObject[] conditions)
        {
            var must = new JsonArray(field.DeepClone());
            foreach (var c in conditions)
            {
                must.Add(c);
            }

            return new JsonObject { ["nested"] = new JsonObject { ["path"] = "values", ["query"] = new JsonObject { ["bool"] = new JsonObject { ["filter"] = must } } } };
        }

        string Sub(JsonNode value) => value.GetValueKind() switch
        {
            System.Text.Json.JsonValueKind.Number => "values.n",
            System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "values.b",
            _ => "values.k",
        };

        switch (f.Kind)
        {
            case FilterKind.Equals:
            case FilterKind.AnyOf:
                var should = new JsonArray(f.Values.Select(v => (JsonNode)Nested(Term(Sub(v), v.DeepClone()))).ToArray());
                return (new JsonObject { ["bool"] = new JsonObject { ["should"] = should, ["minimum_should_match"] = 1 } }, false);
            case FilterKind.Contains:
                return (Nested(new JsonObject { ["wildcard"] = new JsonObject { ["values.t"] = new JsonObject { ["value"] = "*" + EscapeWildcard(f.Text!.ToLowerInvariant()) + "*" } } }), false);
            case FilterKind.Range:
                var range = new JsonObject();
                foreach (var (name, bound) in new[] { ("gte", f.Gte), ("gt", f.Gt), ("lte", f.Lte), ("lt", f.Lt) })
                {
                    if (bound is not null)
                    {
                        range[name] = bound.DeepClone();
                    }
                }

                return (Nested(new JsonObject { ["range"] = new JsonObject { [f.Type == FieldType.Number ? "values.n" : "values.k"] = range } }), false);
            case FilterKind.Empty:
                return (Nested(), true);
            case FilterKind.NotEmpty:
                return (Nested(), false);
            default:
                throw new InvalidOperationException("Unknown filter kind " + f.Kind);
        }
    }

    private static JsonObject Document(Guid tenantId, IndexedRecord d)
    {
        var values = new JsonArray();
        foreach (var (key, value) in d.Values)
        {
            foreach (var item in value is JsonArray array ? array.ToList() : [value])
            {
                if (item is not JsonValue v)
                {
                    continue;
                }

                var entry = new JsonObject { ["f"] = key };
                switch (v.GetValueKind())
                {
                    case System.Text.Json.JsonValueKind.Number:
                        entry["n"] = v.GetValue<decimal>();
                        break;
                    case System.Text.Json.JsonValueKind.True:
                    case System.Text.Json.JsonValueKind.False:
                        entry["b"] = v.GetValue<bool>();
                        break;
                    default:
                        var s = v.GetValue<string>();
                        entry["k"] = s.Length <= 8000 ? s : s[..8000];
                        entry["t"] = s.Length <= 8000 ? s.ToLowerInvariant() : s[..8000].ToLowerInvariant();
                        break;
                }

                values.Add(entry);
            }
        }

        return new JsonObject
        {
            ["tenant_id"] = tenantId.ToString(),
            ["record_id"] = d.RecordId.ToString(),
            ["entity"] = d.Entity.ToString(),
            ["external_id"] = d.ExternalId,
            ["name"] = d.Name,
            ["name_sort"] = d.Name.ToLowerInvariant(),
            ["email"] = d.Email,
            ["search_text"] = (d.Name + "\n" + (d.Email ?? string.Empty) + "\n" + d.ExternalId).ToLowerInvariant(),
            ["words"] = d.Words,
            ["organization_ids"] = new JsonArray(d.OrganizationIds.Select(o => (JsonNode)o.ToString()).ToArray()),
            ["version"] = d.Version,
            ["updated_at"] = d.UpdatedAt.ToString("O", CultureInfo.InvariantCulture),
            ["values"] = values,
            ["source_values"] = d.Values.DeepClone(),
        };
    }

    /// <summary>The one mapping for every tenant: fields are data (values.f), not mapping entries.</summary>
    private static JsonObject Mapping() => new()
    {
        ["settings"] = new JsonObject { ["number_of_shards"] = 1 },
        ["mappings"] = new JsonObject
        {
            ["dynamic"] = "strict",
            ["properties"] = new JsonObject
            {
                ["tenant_id"] = Keyword(),
                ["record_id"] = Keyword(),
                ["entity"] = Keyword(),
                ["external_id"] = Keyword(),
                ["name"] = Keyword(),
                ["name_sort"] = Keyword(),
                ["email"] = Keyword(),
                ["search_text"] = new JsonObject { ["type"] = "wildcard" },
                ["words"] = new JsonObject { ["type"] = "text", ["analyzer"] = "simple" },
                ["organization_ids"] = Keyword(),
                ["version"] = new JsonObject { ["type"] = "integer" },
                ["updated_at"] = new JsonObject { ["type"] = "date" },
                ["source_values"] = new JsonObject { ["type"] = "object", ["enabled"] = false },
                ["values"] = new JsonObject
                {
                    ["type"] = "nested",
                    ["properties"] = new JsonObject
                    {
                        ["f"] = Keyword(),
                        ["k"] = new JsonObject { ["type"] = "keyword", ["ignore_above"] = 8000 },
                        ["t"] = new JsonObject { ["type"] = "wildcard" },
                        ["n"] = new JsonObject { ["type"] = "double" },
                        ["b"] = new JsonObject { ["type"] = "boolean" },
                    },
                },
            },
        },
    };

    private static JsonObject Keyword() => new() { ["type"] = "keyword" };

    private static JsonObject Term(string field, JsonNode? value) => new() { ["term"] = new JsonObject { [field] = value } };

    private static string DocumentId(Guid tenantId, Guid recordId) => tenantId.ToString("N") + recordId.ToString("N");

    private static string EscapeWildcard(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal).Replace("?", "\\?", StringComparison.Ordinal);

    private static StringContent Json(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    private async Task<JsonNode> SearchRawAsync(Guid tenantId, JsonObject body, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync($"{Alias}/_search?routing={tenantId}", Json(body), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw await FailureAsync("search", response, cancellationToken);
        }

        return JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!;
    }

    private async Task<Exception> FailureAsync(string what, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var type = (JsonNode.Parse(text) as JsonObject)?["error"]?["type"]?.GetValue<string>() ?? "unknown";
        logger.LogWarning("Elasticsearch {What} failed: {Status} {ErrorType}", what, (int)response.StatusCode, type);
        return new HttpRequestException($"Elasticsearch {what} failed: {(int)response.StatusCode} {type}", null, response.StatusCode);
    }
}
