using ConnectApp.Hosting;
using ConnectApp.Messaging;
using ConnectApp.Outbox;
using Microsoft.Extensions.Options;

namespace ConnectApp.Search;

/// <summary>The directory's search index (PostgreSQL, or Elasticsearch when configured), kept by the mirror consumers; search and reindex endpoints.</summary>
internal static class SearchFeature
{
    public static IServiceCollection AddSearch(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<SearchOptions, SearchOptionsValidator>(o =>
            o.ElasticsearchUrl = configuration["ELASTICSEARCH_URL"] is { Length: > 0 } url ? url
                : configuration["BONSAI_URL"] is { Length: > 0 } bonsai ? bonsai
                : null);
        services.AddHttpClient(ElasticsearchSearchIndex.HttpClientName, (sp, http) =>
        {
            // Credentials travel in the URL (Bonsai style); they become a Basic header and never a logged address.
            var uri = new Uri(sp.GetRequiredService<IOptions<SearchOptions>>().Value.ElasticsearchUrl!);
            http.BaseAddress = new UriBuilder(uri) { UserName = string.Empty, Password = string.Empty, Path = uri.AbsolutePath.TrimEnd('/') + "/" }.Uri;
            if (uri.UserInfo.Length > 0)
            {
                http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                    "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Uri.UnescapeDataString(uri.UserInfo))));
            }

            http.Timeout = TimeSpan.FromSeconds(30);
        });
        services.AddSingleton<ISearchIndex>(sp => sp.GetRequiredService<IOptions<SearchOptions>>().Value.UsesElasticsearch
            ? ActivatorUtilities.CreateInstance<ElasticsearchSearchIndex>(sp, sp.GetRequiredService<IHttpClientFactory>().CreateClient(ElasticsearchSearchIndex.HttpClientName))
            : ActivatorUtilities.CreateInstance<PostgresSearchIndex>(sp));
        services.AddSingleton<MirrorBatcher>();
        services.AddKeyedScoped<IMessageHandler, RecordChangedHandler>(RecordChanged.Type);
        services.AddKeyedScoped<IMessageHandler, FieldChangedHandler>(FieldChanged.Type);
        services.AddKeyedScoped<IMessageHandler, ReindexHandler>(ReindexRequested.Type);
        services.AddScoped<SearchReindexer>();
        return services;
    }

    public static IEndpointRouteBuilder MapSearchEndpoints(this IEndpointRouteBuilder api)
    {
        SearchApi.MapSearchEndpoints(api);
        api.MapReindexEndpoints();
        return api;
    }
}
