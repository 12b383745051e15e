using ConnectApp.Jobs;

namespace ConnectApp.Csv;

/// <summary>CSV import and export of organizations and customers (see CsvFormat for the file format).</summary>
internal static class CsvFeature
{
    public static IServiceCollection AddCsv(this IServiceCollection services) =>
        services.AddScoped<ImportWriter>().AddKeyedScoped<IJobHandler, ImportProcessor>(ImportProcessor.Kind);

    public static IEndpointRouteBuilder MapCsvEndpoints(this IEndpointRouteBuilder api)
    {
        api.MapCsvExportEndpoints();
        ImportsApi.Map(api);
        return api;
    }
}
