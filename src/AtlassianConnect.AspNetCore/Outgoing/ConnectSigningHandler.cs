using AtlassianConnect.Forge;
using Microsoft.Extensions.Options;

namespace AtlassianConnect.Outgoing;

/// <summary>
/// Authorizes requests to an installation's product as the app (or as a user, <see cref="ConnectRequest.UserTokenKey"/>). A Connect request (<see cref="ConnectRequest.TenantKey"/>)
/// gets <c>Authorization: JWT</c> with <c>iss</c> = app key, <c>qsh</c> of this exact request and a three-minute
/// lifetime, and may only go to the installation's baseUrl. A request made for a Forge Remote call
/// (<see cref="ForgeRequest.InvocationKey"/>) gets the Forge OAuth bearer token instead, and may only go under the
/// invocation's apiBaseUrl.
/// </summary>
public sealed class ConnectSigningHandler(IOptions<ConnectOptions> options, TimeProvider time) : DelegatingHandler
{
    /// <summary>How long an outgoing token is valid.</summary>
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromMinutes(3);

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(ForgeRequest.InvocationKey, out var invocation) && invocation is not null)
        {
            return SendForForgeAsync(request, invocation, cancellationToken);
        }

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

        if (request.Options.TryGetValue(ConnectRequest.UserTokenKey, out var userToken) && userToken is not null)
        {
            // Act-as-user: the OAuth 2.0 access token granted for the user (JWT-bearer grant), instead of the app's JWT.
            request.Headers.Authorization = new("Bearer", userToken);
            return base.SendAsync(request, cancellationToken);
        }

        var qsh = QueryStringHash.Compute(request.Method.Method, uri.PathAndQuery, basePath);
        var claims = ConnectJwt.RequestClaims(options.Value.AppKey, qsh, time.GetUtcNow(), TokenLifetime);
        request.Headers.Authorization = new("JWT", ConnectJwt.CreateSymmetric(claims, tenant.SharedSecret));
        return base.SendAsync(request, cancellationToken);
    }

    private Task<HttpResponseMessage> SendForForgeAsync(HttpRequestMessage request, ForgeInvocation invocation, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI.");
        var root = invocation.ApiBaseUrl.ToString().TrimEnd('/') + "/";
        if (!uri.ToString().StartsWith(root, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("Outgoing Forge requests may only go under the invocation's apiBaseUrl.");
        }

        var asUser = request.Options.TryGetValue(ForgeRequest.AsUserKey, out var user) && user;
        var token = (asUser ? invocation.AppUserToken : invocation.AppSystemToken)
            ?? throw new InvalidOperationException($"The Forge call carried no {(asUser ? "x-forge-oauth-user" : "x-forge-oauth-system")} token.");
        request.Headers.Authorization = new("Bearer", token);
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Per-request options for outgoing calls made for a Forge Remote invocation.</summary>
public static class ForgeRequest
{
    /// <summary>The invocation a request is made for.</summary>
    public static readonly HttpRequestOptionsKey<ForgeInvocation> InvocationKey = new("forge.invocation");

    /// <summary>True: act as the user (<c>x-forge-oauth-user</c>) rather than the app (<c>x-forge-oauth-system</c>).</summary>
    public static readonly HttpRequestOptionsKey<bool> AsUserKey = new("forge.as_user");

    /// <summary>A request to <paramref name="pathAndQuery"/> under the invocation's apiBaseUrl, authorized as the app (or the user).</summary>
    public static HttpRequestMessage Create(ForgeInvocation invocation, HttpMethod method, string pathAndQuery, bool asUser = false)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        var request = new HttpRequestMessage(method, new Uri(invocation.ApiBaseUrl.ToString().TrimEnd('/') + "/" + pathAndQuery.TrimStart('/')));
        request.Options.Set(InvocationKey, invocation);
        request.Options.Set(AsUserKey, asUser);
        return request;
    }
}

/// <summary>Per-request options for outgoing Connect calls.</summary>
public static class ConnectRequest
{
    /// <summary>The installation a request is made for.</summary>
    public static readonly HttpRequestOptionsKey<ConnectTenant> TenantKey = new("connect.tenant");

    /// <summary>
    /// Set: the request acts as a user, with this OAuth 2.0 access token as <c>Authorization: Bearer</c> (the grant is
    /// the caller's business); unset: as the app, with a Connect JWT. Either way only to the installation's baseUrl.
    /// </summary>
    public static readonly HttpRequestOptionsKey<string> UserTokenKey = new("connect.user_token");

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
