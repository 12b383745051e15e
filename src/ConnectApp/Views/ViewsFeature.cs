namespace ConnectApp.Views;

/// <summary>Agents' saved directory views (private or shared with the site's agents) and their column choices, kept per person on the server.</summary>
internal static class ViewsFeature
{
    public static IEndpointRouteBuilder MapViewsEndpoints(this IEndpointRouteBuilder api)
    {
        ViewsApi.Map(api);
        return api;
    }
}
