namespace ConnectApp.Api;

/// <summary>Which requests are the app's API or the Connect lifecycle callbacks, by path or by route pattern.</summary>
internal static class AppRoutes
{
    /// <summary>
    /// The API (<c>/api</c>) and the lifecycle callbacks: the requests whose input can reach the database and whose
    /// answers must never be cached. The descriptor, health, OpenAPI and static pages are neither.
    /// </summary>
    public static bool IsApiOrLifecycle(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/installed") || path.StartsWithSegments("/uninstalled")
        || path.StartsWithSegments("/enabled") || path.StartsWithSegments("/disabled");

    /// <summary>The same for a route pattern (<c>/api/organizations/{id}</c>), as endpoint conventions see it.</summary>
    public static bool IsApiOrLifecycle(string routePattern) => IsApiOrLifecycle(new PathString(routePattern.Split('{')[0].TrimEnd('/')));
}
