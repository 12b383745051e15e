using Microsoft.Extensions.Options;

namespace ConnectApp.Search;

/// <summary>Which search engine: Elasticsearch at <c>ELASTICSEARCH_URL</c> (else <c>BONSAI_URL</c>), or PostgreSQL when neither is set.</summary>
internal sealed class SearchOptions
{
    /// <summary>http(s)://[user:password@]host:port — credentials in the URL, as Bonsai gives them. Never logged.</summary>
    public string? ElasticsearchUrl { get; set; }

    /// <summary>The alias every read and write goes through; one per environment.</summary>
    public string Alias { get; set; } = "connectapp-records";

    public bool UsesElasticsearch => !string.IsNullOrEmpty(ElasticsearchUrl);
}

internal sealed class SearchOptionsValidator : IValidateOptions<SearchOptions>
{
    public ValidateOptionsResult Validate(string? name, SearchOptions options) =>
        !options.UsesElasticsearch || (Uri.TryCreate(options.ElasticsearchUrl, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("ELASTICSEARCH_URL is malformed: expected http(s)://[user:password@]host:port.");
}
