using System.Globalization;
using System.Text.Json.Nodes;

namespace JiraSimulator;

/// <summary>A Jira issue as the simulator keeps it: what its JQL subset and the app's calls need.</summary>
public sealed class SimulatedIssue
{
    public required string Id { get; init; }

    public required string Key { get; init; }

    public string? ReporterAccountId { get; init; }

    /// <summary>The JSM organizations the request is shared with (by name: JQL's <c>Organizations = "name"</c>).</summary>
    public IReadOnlyList<string> Organizations { get; init; } = [];

    /// <summary>The status category key: <c>new</c> (To Do), <c>indeterminate</c> (In Progress) or <c>done</c>.</summary>
    public string StatusCategory { get; set; } = "new";

    /// <summary>Entity properties by key (what <c>PUT /rest/api/3/issue/{id}/properties/{key}</c> stored).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, JsonNode> Properties { get; } = new(StringComparer.Ordinal);
}

/// <summary>A long-running task as <c>GET /rest/api/3/task/{taskId}</c> answers it (Jira's TaskProgressBean).</summary>
public sealed class SimulatedTask(string id, Uri self, string description)
{
    private readonly Lock _lock = new();
    private readonly long _submitted = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private string _status = "ENQUEUED";
    private int _progress;
    private string? _message;
    private JsonNode? _result;
    private long? _finished;
    private long _lastUpdate = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public string Id { get; } = id;

    public string Status
    {
        get
        {
            lock (_lock)
            {
                return _status;
            }
        }
    }

    internal void Set(string status, int progress, string? message, JsonNode? result)
    {
        lock (_lock)
        {
            _status = status;
            _progress = progress;
            _message = message;
            _result = result;
            _lastUpdate = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            if (status is "COMPLETE" or "FAILED" or "CANCELLED" or "DEAD")
            {
                _finished = _lastUpdate;
            }
        }
    }

    public JsonObject ToJson()
    {
        lock (_lock)
        {
            var json = new JsonObject
            {
                ["self"] = self.ToString(),
                ["id"] = Id,
                ["description"] = description,
                ["status"] = _status,
                ["progress"] = _progress,
                ["submittedBy"] = 0,
                ["submitted"] = _submitted,
                ["lastUpdate"] = _lastUpdate,
                ["elapsedRuntime"] = _lastUpdate - _submitted,
            };
            if (_message is not null)
            {
                json["message"] = _message;
            }

            if (_result is not null)
            {
                json["result"] = _result.DeepClone();
            }

            if (_status != "ENQUEUED")
            {
                json["started"] = _submitted;
            }

            if (_finished is { } finished)
            {
                json["finished"] = finished;
            }

            return json;
        }
    }
}

/// <summary>
/// A site's issues and the app's dynamic modules, with injectable latency and failures for the search calls (tests
/// make the issue panel's count call time out), and counters of what the app called.
/// </summary>
public sealed class IssueStore
{
    private readonly Lock _lock = new();
    private readonly List<SimulatedIssue> _issues = [];
    private int _next = 10000;

    /// <summary>The app's dynamic modules (registered with <c>POST /rest/atlassian-connect/1/app/module/dynamic</c>), by module key.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, (string Type, JsonObject Module)> DynamicModules { get; } = new(StringComparer.Ordinal);

    /// <summary>Every search call (count and search) waits this long first.</summary>
    public TimeSpan SearchLatency { get; set; }

    /// <summary>Every issue REST call (search, properties, bulk, task) waits this long first: a network round trip (bench/JqlStamp).</summary>
    public TimeSpan CallLatency { get; set; }

    /// <summary>Set: search calls answer this status instead.</summary>
    public int? FailSearchWith { get; set; }

    public int CountCalls => _countCalls;

    public int SearchCalls => _searchCalls;

    /// <summary>Issue property values written, one per issue, by a <c>PUT</c> or by a bulk task.</summary>
    public int PropertyWrites => _propertyWrites;

    /// <summary><c>PUT /rest/api/3/issue/{id}/properties/{key}</c> calls that wrote.</summary>
    public int PropertyPuts => _propertyPuts;

    /// <summary><c>POST /rest/api/3/issue/properties/multi</c> calls accepted (answered 303 with a task).</summary>
    public int BulkPropertyCalls => _bulkPropertyCalls;

    /// <summary>Bulk property calls answered 429 (<see cref="RateLimitBulkCalls"/>).</summary>
    public int BulkPropertyRateLimited => _bulkRateLimited;

    /// <summary><c>GET /rest/api/3/task/{id}</c> calls.</summary>
    public int TaskPolls => _taskPolls;

    /// <summary>A bulk task waits this long ENQUEUED, and as long again RUNNING, before its writes land and it ends.</summary>
    public TimeSpan BulkTaskDelay { get; set; } = TimeSpan.FromMilliseconds(40);

    /// <summary>The next this-many bulk tasks end FAILED, writing nothing.</summary>
    public int FailBulkTasks
    {
        get => Volatile.Read(ref _failBulkTasks);
        set => Volatile.Write(ref _failBulkTasks, value);
    }

    /// <summary>The next this-many bulk calls answer 429 with <c>Retry-After: 1</c>.</summary>
    public int RateLimitBulkCalls
    {
        get => Volatile.Read(ref _rateLimitBulkCalls);
        set => Volatile.Write(ref _rateLimitBulkCalls, value);
    }

    /// <summary>Issue ids a bulk task fails to update: the task is COMPLETE, its result names them (<c>failedAccessibleIssues</c>).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, bool> FailBulkIssues { get; } = new(StringComparer.Ordinal);

    /// <summary>The site's long-running tasks by id (<c>GET /rest/api/3/task/{id}</c>).</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, SimulatedTask> Tasks { get; } = new(StringComparer.Ordinal);

    private int _countCalls;
    private int _searchCalls;
    private int _propertyWrites;
    private int _propertyPuts;
    private int _bulkPropertyCalls;
    private int _bulkRateLimited;
    private int _taskPolls;
    private int _failBulkTasks;
    private int _rateLimitBulkCalls;
    private long _nextTask = 10000;

    internal void CountCount() => Interlocked.Increment(ref _countCalls);

    internal void CountSearch() => Interlocked.Increment(ref _searchCalls);

    internal void CountPropertyPut()
    {
        Interlocked.Increment(ref _propertyPuts);
        Interlocked.Increment(ref _propertyWrites);
    }

    internal void CountTaskPoll() => Interlocked.Increment(ref _taskPolls);

    /// <summary>Takes one injected 429 if any is left.</summary>
    internal bool TakeRateLimit()
    {
        if (!Countdown.TakeOne(ref _rateLimitBulkCalls))
        {
            return false;
        }

        Interlocked.Increment(ref _bulkRateLimited);
        return true;
    }

    /// <summary>
    /// Starts a bulk property task: ENQUEUED now, RUNNING after <see cref="BulkTaskDelay"/>, then the writes land (issues
    /// not found are ignored, as Jira documents; ids in <see cref="FailBulkIssues"/> are not written and are named in the
    /// result) and it is COMPLETE — or FAILED with nothing written while <see cref="FailBulkTasks"/> lasts.
    /// </summary>
    internal SimulatedTask StartBulkPropertyTask(Uri self, IReadOnlyList<(string IssueId, IReadOnlyDictionary<string, JsonNode> Properties)> updates)
    {
        Interlocked.Increment(ref _bulkPropertyCalls);
        var id = Interlocked.Increment(ref _nextTask).ToString(CultureInfo.InvariantCulture);
        var task = new SimulatedTask(id, new Uri(self, id), "Bulk set issue properties by issue");
        Tasks[id] = task;
        var fail = TakeTaskFailure();
        var delay = BulkTaskDelay;
        _ = Task.Run(async () =>
        {
            await Task.Delay(delay);
            task.Set("RUNNING", 50, null, null);
            await Task.Delay(delay);
            if (fail)
            {
                task.Set("FAILED", 100, "The task failed (injected fault).", null);
                return;
            }

            var failed = new JsonObject();
            foreach (var (issueId, properties) in updates)
            {
                if (Find(issueId) is not { } issue)
                {
                    continue; // "if an issue is not found, it is ignored"
                }

                if (FailBulkIssues.ContainsKey(issueId))
                {
                    failed[issueId] = new JsonArray("The property could not be set (injected fault).");
                    continue;
                }

                foreach (var (key, value) in properties)
                {
                    issue.Properties[key] = value.DeepClone();
                }

                Interlocked.Increment(ref _propertyWrites);
            }

            task.Set("COMPLETE", 100, null, failed.Count == 0 ? null : new JsonObject { ["failedAccessibleIssues"] = failed });
        });
        return task;
    }

    private bool TakeTaskFailure() => Countdown.TakeOne(ref _failBulkTasks);

    public IReadOnlyList<SimulatedIssue> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _issues];
            }
        }
    }

    public SimulatedIssue Add(string? reporterAccountId, IReadOnlyList<string>? organizations = null, string statusCategory = "new", string projectKey = "SD")
    {
        lock (_lock)
        {
            var id = _next++;
            var issue = new SimulatedIssue
            {
                Id = id.ToString(CultureInfo.InvariantCulture),
                Key = projectKey + "-" + (_issues.Count + 1).ToString(CultureInfo.InvariantCulture),
                ReporterAccountId = reporterAccountId,
                Organizations = organizations ?? [],
                StatusCategory = statusCategory,
            };
            _issues.Add(issue);
            return issue;
        }
    }

    public SimulatedIssue? Find(string idOrKey)
    {
        lock (_lock)
        {
            return _issues.FirstOrDefault(i => i.Id == idOrKey || string.Equals(i.Key, idOrKey, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>The issues <paramref name="jql"/> finds, in creation order; a JQL outside the subset throws <see cref="JqlException"/>.</summary>
    public IReadOnlyList<SimulatedIssue> Search(string jql)
    {
        var query = JqlSubset.Parse(jql, Extraction);
        return All.Where(query).ToList();
    }

    /// <summary>The extraction a registered <c>jiraEntityProperties</c> module declares under <paramref name="alias"/>, or for <paramref name="propertyKey"/> and <paramref name="objectName"/>.</summary>
    internal (string PropertyKey, string ObjectName, string Type)? Extraction(string? alias, string? propertyKey, string? objectName)
    {
        foreach (var (type, module) in DynamicModules.Values)
        {
            if (type != "jiraEntityProperties" || !string.Equals(module["entityType"]?.ToString() ?? "issue", "issue", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var configuration in module["keyConfigurations"]?.AsArray() ?? [])
            {
                var key = configuration?["propertyKey"]?.ToString();
                foreach (var extraction in configuration?["extractions"]?.AsArray() ?? [])
                {
                    var name = extraction?["objectName"]?.ToString();
                    var extractionType = extraction?["type"]?.ToString() ?? "string";
                    if (key is null || name is null)
                    {
                        continue;
                    }

                    if ((alias is not null && string.Equals(extraction?["alias"]?.ToString(), alias, StringComparison.OrdinalIgnoreCase))
                        || (alias is null && key == propertyKey && name == objectName))
                    {
                        return (key, name, extractionType);
                    }
                }
            }
        }

        return null;
    }
}

/// <summary>A JQL the subset does not understand, or a field that does not exist: Jira answers 400 with <c>errorMessages</c>.</summary>
public sealed class JqlException(string message) : Exception(message);

/// <summary>
/// The JQL subset the simulator answers, as Jira documents each piece: clauses joined by <c>AND</c>;
/// <c>reporter =</c>/<c>!=</c> an accountId; <c>Organizations =</c>/<c>!=</c> an organization name (JSM: requests shared
/// with it); <c>statusCategory =</c>/<c>!=</c> <c>Done</c>, <c>"To Do"</c>, <c>"In Progress"</c> (or the keys);
/// <c>issue.property[key].path</c> and the aliases of registered <c>jiraEntityProperties</c> with <c>=</c>, <c>!=</c>,
/// <c>~</c> (text), <c>&lt;</c>, <c>&gt;</c>, <c>&lt;=</c>, <c>&gt;=</c> (number, date), typed as the extraction says;
/// an optional trailing <c>ORDER BY</c> is ignored. Anything else is a <see cref="JqlException"/>.
/// </summary>
internal static class JqlSubset
{
    private static readonly string[] Operators = ["!=", "<=", ">=", "!~", "=", "~", "<", ">"];

    public static Func<SimulatedIssue, bool> Parse(string jql, Func<string?, string?, string?, (string PropertyKey, string ObjectName, string Type)?> extraction)
    {
        var text = jql.Trim();
        var orderBy = IndexOfKeyword(text, "ORDER BY");
        if (orderBy >= 0)
        {
            text = text[..orderBy].Trim();
        }

        if (text.Length == 0)
        {
            return _ => true;
        }

        var predicates = new List<Func<SimulatedIssue, bool>>();
        var position = 0;
        while (true)
        {
            predicates.Add(Clause(text, ref position, extraction));
            SkipSpace(text, ref position);
            if (position >= text.Length)
            {
                break;
            }

            if (position + 3 <= text.Length && string.Equals(text.Substring(position, 3), "AND", StringComparison.OrdinalIgnoreCase)
                && (position + 3 == text.Length || char.IsWhiteSpace(text[position + 3])))
            {
                position += 3;
                continue;
            }

            throw new JqlException($"Error in the JQL Query: Expecting either 'AND' or the end of the query but got '{text[position..].Split(' ')[0]}'. (The simulator answers a subset of JQL: clauses joined by AND.)");
        }

        return issue => predicates.All(p => p(issue));
    }

    private static Func<SimulatedIssue, bool> Clause(string text, ref int position, Func<string?, string?, string?, (string PropertyKey, string ObjectName, string Type)?> extraction)
    {
        SkipSpace(text, ref position);
        var start = position;
        while (position < text.Length && !char.IsWhiteSpace(text[position]) && !"=!~<>".Contains(text[position], StringComparison.Ordinal))
        {
            if (text[position] == '[')
            {
                var close = text.IndexOf(']', position);
                position = close < 0 ? text.Length : close;
            }

            position++;
        }

        var field = text[start..position];
        if (field.Length == 0)
        {
            throw new JqlException("Error in the JQL Query: a field name was expected.");
        }

        SkipSpace(text, ref position);
        var at = position;
        var op = Operators.FirstOrDefault(o => string.CompareOrdinal(text, at, o, 0, o.Length) == 0)
            ?? throw new JqlException($"Error in the JQL Query: an operator (=, !=, ~, <, >, <=, >=) was expected after '{field}'.");
        position += op.Length;
        SkipSpace(text, ref position);
        var value = Value(text, ref position);

        switch (field.ToLowerInvariant())
        {
            case "reporter":
                return Equality(field, op, i => i.ReporterAccountId is { } r && r == value);
            case "organizations":
            case "organization":
                return Equality(field, op, i => i.Organizations.Contains(value, StringComparer.OrdinalIgnoreCase));
            case "statuscategory":
                var category = value.ToLowerInvariant() switch
                {
                    "done" or "3" => "done",
                    "to do" or "new" or "2" => "new",
                    "in progress" or "indeterminate" or "4" => "indeterminate",
                    _ => throw new JqlException($"The value '{value}' does not exist for the field 'statusCategory'."),
                };
                return Equality(field, op, i => i.StatusCategory == category);
            default:
                break;
        }

        (string PropertyKey, string ObjectName, string Type)? found;
        if (field.StartsWith("issue.property[", StringComparison.OrdinalIgnoreCase))
        {
            var close = field.IndexOf(']', StringComparison.Ordinal);
            var key = close > 15 ? field[15..close] : string.Empty;
            var path = close >= 0 && close + 1 < field.Length && field[close + 1] == '.' ? field[(close + 2)..] : string.Empty;
            found = extraction(null, key, path);
        }
        else
        {
            found = extraction(field, null, null);
        }

        if (found is not { } e)
        {
            throw new JqlException($"Field '{field}' does not exist or you do not have permission to view it.");
        }

        return Property(field, op, value, e.PropertyKey, e.ObjectName, e.Type);
    }

    private static Func<SimulatedIssue, bool> Equality(string field, string op, Func<SimulatedIssue, bool> matches) => op switch
    {
        "=" => matches,
        "!=" => i => !matches(i),
        _ => throw new JqlException($"The operator '{op}' is not supported by the '{field}' field."),
    };

    private static Func<SimulatedIssue, bool> Property(string field, string op, string value, string propertyKey, string objectName, string type)
    {
        var allowed = type switch
        {
            "number" or "date" => new[] { "=", "!=", "<", ">", "<=", ">=" },
            "text" => ["~", "!~"],
            _ => ["=", "!="],
        };
        if (!allowed.Contains(op))
        {
            throw new JqlException($"The operator '{op}' is not supported by the '{field}' field.");
        }

        Func<JsonNode, bool> test = type switch
        {
            "number" => decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out var number)
                ? node => node.GetValueKind() == System.Text.Json.JsonValueKind.Number && Compare(node.GetValue<decimal>().CompareTo(number), op)
                : throw new JqlException($"The value '{value}' is not a valid number for the field '{field}'."),
            "date" => DateOnly.TryParse(value, CultureInfo.InvariantCulture, out var date)
                ? node => DateOnly.TryParse(Text(node)?[..Math.Min(10, Text(node)!.Length)], CultureInfo.InvariantCulture, out var d) && Compare(d.CompareTo(date), op)
                : throw new JqlException($"Date value '{value}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd'."),
            "text" => node => Text(node)?.Contains(value, StringComparison.OrdinalIgnoreCase) == true,
            _ => node => string.Equals(Text(node), value, StringComparison.OrdinalIgnoreCase),
        };
        var negated = op is "!=" or "!~";
        return issue =>
        {
            var node = issue.Properties.TryGetValue(propertyKey, out var property) ? Navigate(property, objectName) : null;
            var values = node is JsonArray array ? array.Where(n => n is not null).Select(n => n!).ToList() : node is null ? [] : [node];
            return negated ? values.Count > 0 && !values.Any(test) : values.Any(test);
        };
    }

    private static bool Compare(int comparison, string op) => op switch
    {
        "=" => comparison == 0,
        "!=" => comparison == 0, // negated by the caller
        "<" => comparison < 0,
        ">" => comparison > 0,
        "<=" => comparison <= 0,
        ">=" => comparison >= 0,
        _ => false,
    };

    private static JsonNode? Navigate(JsonNode root, string path)
    {
        var node = root;
        foreach (var part in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node is JsonObject o ? o[part] : null;
            if (node is null)
            {
                return null;
            }
        }

        return node;
    }

    private static string? Text(JsonNode node) => node.GetValueKind() == System.Text.Json.JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();

    private static string Value(string text, ref int position)
    {
        if (position < text.Length && text[position] is '"' or '\'')
        {
            var quote = text[position++];
            var value = new System.Text.StringBuilder();
            while (position < text.Length && text[position] != quote)
            {
                if (text[position] == '\\' && position + 1 < text.Length)
                {
                    position++;
                }

                value.Append(text[position++]);
            }

            if (position >= text.Length)
            {
                throw new JqlException("Error in the JQL Query: the quoted string is not terminated.");
            }

            position++;
            return value.ToString();
        }

        var start = position;
        while (position < text.Length && !char.IsWhiteSpace(text[position]))
        {
            position++;
        }

        if (position == start)
        {
            throw new JqlException("Error in the JQL Query: a value was expected.");
        }

        return text[start..position];
    }

    private static void SkipSpace(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
    }

    private static int IndexOfKeyword(string text, string keyword)
    {
        var index = text.IndexOf(keyword, StringComparison.OrdinalIgnoreCase);
        return index > 0 && char.IsWhiteSpace(text[index - 1]) ? index : -1;
    }
}
