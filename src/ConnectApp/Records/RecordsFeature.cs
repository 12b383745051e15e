using ConnectApp.Api;
using ConnectApp.Fields;
using ConnectApp.Hosting;
using ConnectApp.Persistence;
using ConnectApp.Problems;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ConnectApp.Records;

/// <summary>
/// Organizations and customers with their values: the agents' API (list, read, create, set values, bulk edit,
/// history and restore, the issue panel), the customers' portal API, and a field's type change, which rewrites
/// the values it holds.
/// </summary>
internal static class RecordsFeature
{
    public static IServiceCollection AddRecords(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<RequestCountsOptions, RequestCountsOptionsValidator>(o =>
        {
            o.TimeoutText = configuration["REQUEST_COUNTS_TIMEOUT_MS"];
            o.CacheText = configuration["REQUEST_COUNTS_CACHE_SECONDS"];
        });
        services.AddKeyedSingleton(PanelReader.DataSourceKey, (sp, _) => PanelReader.CreateDataSource(sp.GetRequiredService<IOptions<DatabaseOptions>>().Value.ConnectionString!));
        return services.AddScoped<RecordWriter>().AddScoped<FieldTypeChange>().AddScoped<RequestCounter>().AddSingleton<PanelReader>().AddSingleton<IssuePanelCache>().AddSingleton<RequestCountCache>();
    }

    public static IEndpointRouteBuilder MapRecordsEndpoints(this IEndpointRouteBuilder api)
    {
        RecordsApi.Map(api);
        HistoryApi.Map(api);
        IssuePanelApi.Map(api);
        PortalApi.Map(api);
        api.MapAdminFieldsGroup().MapPost("/{id:guid}/type", ChangeTypeAsync)
            .Problems(CommonProblems.ValidationFailed, CommonProblems.NotFound, FieldProblems.VersionMismatch, FieldProblems.SameType, FieldProblems.OptionLimit,
                FieldProblems.TypeChangeLossy, ApiProblems.PreconditionRequired, ApiProblems.IfMatchMalformed)
            .ReturnsETag();
        return api;
    }

    private static async Task<Ok<FieldView>> ChangeTypeAsync(Guid id, FieldTypeChange.Request body, Caller caller, HttpContext context, FieldTypeChange change, CancellationToken ct) =>
        FieldsFeature.Versioned(context.Response, await change.ChangeAsync(caller, id, ETags.Required(context.Request), body, ct));
}
