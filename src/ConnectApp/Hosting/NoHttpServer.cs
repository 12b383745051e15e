using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace ConnectApp.Hosting;

/// <summary>
/// The server of the worker role: none. A worker takes no HTTP traffic, so it binds no port (on one machine, web and
/// worker would otherwise both claim PORT).
/// </summary>
internal sealed class NoHttpServer : IServer
{
    public IFeatureCollection Features { get; } = new FeatureCollection();

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
    }
}
