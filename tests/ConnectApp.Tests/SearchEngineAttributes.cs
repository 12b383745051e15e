using System.Reflection;
using Xunit.Sdk;

namespace ConnectApp.Tests;

/// <summary>Runs a search conformance theory on the PostgreSQL engine (always available: it is the app's own database).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresEngineAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [["postgres"]];
}

/// <summary>
/// Runs a search conformance theory on the Elasticsearch engine when <c>ELASTICSEARCH_URL</c> is set; otherwise the
/// case is reported as skipped, with that reason (no Elasticsearch server can be installed on these machines).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ElasticsearchEngineAttribute : DataAttribute
{
    public ElasticsearchEngineAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ELASTICSEARCH_URL")))
        {
            Skip = "ELASTICSEARCH_URL is not set: the Elasticsearch engine's conformance run needs a server.";
        }
    }

    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [["elasticsearch"]];
}
