namespace ConnectApp.Export;

/// <summary>An admin's copy of everything the app stores for their site (see <see cref="TenantExport"/>).</summary>
internal static class ExportFeature
{
    public static IEndpointRouteBuilder MapExportEndpoints(this IEndpointRouteBuilder api)
    {
        TenantExport.Map(api);
        return api;
    }
}
