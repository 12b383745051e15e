using Microsoft.Extensions.Options;

namespace AtlassianConnect.Outgoing;

/// <summary>
/// Signs requests to an installation's product as the app: <c>Authorization: JWT</c> with <c>iss</c> = app key,
/// <c>qsh</c> of this exact request and a three-minute lifetime. The installation comes from
/// <see cref="ConnectRequest.TenantKey"/>; requests to anywhere but its baseUrl are refused.
/// </summary>
public sealed class ConnectSigningHandler(IOptions<ConnectOptions> options, TimeProvider time) : DelegatingHandler
{
    /// <summary>How long an outgoing token is valid.</summary>
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromMinutes(3);

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(ConnectRequest.TenantKey, out var tenant) || tenant is null)
        {
            throw new InvalidOperationException("An outgoing Connect request needs the installation: request.Options.Set(ConnectRequest.TenantKey, tenant).");
        }

        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");

        var basePath = tenant.BaseUrl.AbsolutePath.TrimEnd('/');
        if (uri.Scheme != tenant.BaseUrl.Scheme || !string.Equals(uri.Authority, tenant.BaseUrl.Authority, StringComparison.OrdinalIgnoreCase)
            || !uri.AbsolutePath.StartsWith(basePath + "/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException("Outgoing Connect requests may only go to the installation's own baseUrl.");
        }

        var qsh = QueryStringHash.Compute(request.Method.Method, uri.PathAndQuery, basePath);
        var claims = ConnectJwt.RequestClaims(options.Value.AppKey, qsh, time.GetUtcNow(), TokenLifetime);
        request.Headers.Authorization = new("JWT", ConnectJwt.CreateSymmetric(claims, tenant.SharedSecret));
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Per-request options for outgoing Connect calls.</summary>
public static class ConnectRequest
{
    /// <summary>The installation a request is made for.</summary>
    public static readonly HttpRequestOptionsKey<ConnectTenant> TenantKey = new("connect.tenant");

    /// <summary>A request to <paramref name="pathAndQuery"/> under the installation's baseUrl (context path kept), made for it.</summary>
    public static HttpRequestMessage Create(ConnectTenant tenant, HttpMethod method, string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        var uri = new Uri(tenant.BaseUrl.ToString().TrimEnd('/') + "/" + pathAndQuery.TrimStart('/'));
        return new HttpRequestMessage(method, uri).ForTenant(tenant);
    }

    /// <summary>Marks <paramref name="request"/> as made for <paramref name="tenant"/>.</summary>
    public static HttpRequestMessage ForTenant(this HttpRequestMessage request, ConnectTenant tenant)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Set(TenantKey, tenant);
        return request;
    }
}
