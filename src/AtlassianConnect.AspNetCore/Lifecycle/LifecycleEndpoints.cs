using System.Text.Json;
using AtlassianConnect.Authentication;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace AtlassianConnect.Lifecycle;

/// <summary>Maps the four lifecycle callbacks, verifies them and hands them to <see cref="IConnectLifecycleHandler"/>.</summary>
public static class LifecycleEndpoints
{
    private const int MaxBodyBytes = 64 * 1024;

    /// <summary>Maps <c>POST /installed</c>, <c>/uninstalled</c>, <c>/enabled</c> and <c>/disabled</c>.</summary>
    public static RouteGroupBuilder MapConnectLifecycle(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(string.Empty).WithTags("Connect lifecycle").DisableAntiforgery();
        group.MapPost("/installed", (HttpContext c) => HandleAsync(c, "installed", (h, e, ct) => h.InstalledAsync(e, ct)));
        group.MapPost("/uninstalled", (HttpContext c) => HandleAsync(c, "uninstalled", (h, e, ct) => h.UninstalledAsync(e, ct)));
        group.MapPost("/enabled", (HttpContext c) => HandleAsync(c, "enabled", (h, e, ct) => h.EnabledAsync(e, ct)))
            .WithMetadata(new AllowDisabledTenantAttribute());
        group.MapPost("/disabled", (HttpContext c) => HandleAsync(c, "disabled", (h, e, ct) => h.DisabledAsync(e, ct)))
            .WithMetadata(new AllowDisabledTenantAttribute());
        return group;
    }

    private static async Task HandleAsync(HttpContext context, string eventType, Func<IConnectLifecycleHandler, LifecycleEvent, CancellationToken, Task> apply)
    {
        var ct = context.RequestAborted;
        var options = context.RequestServices.GetRequiredService<IOptions<ConnectOptions>>().Value;
        var (payload, bodyFailure) = await ReadPayloadAsync(context, ct);
        if (payload is null)
        {
            await ConnectProblems.WriteAsync(context, bodyFailure!);
            return;
        }

        var authFailure = await AuthenticateAsync(context, eventType, payload.ClientKey!, ct);
        if (authFailure is not null)
        {
            await ConnectProblems.WriteAsync(context, authFailure);
            return;
        }

        var invalid = Validate(payload, eventType, options);
        if (invalid is not null)
        {
            await ConnectProblems.WriteAsync(context, invalid);
            return;
        }

        await apply(context.RequestServices.GetRequiredService<IConnectLifecycleHandler>(), payload, ct);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task<ConnectAuthFailure?> AuthenticateAsync(HttpContext context, string eventType, string clientKey, CancellationToken ct)
    {
        if (eventType is "installed" or "uninstalled" || IsAsymmetric(context))
        {
            var verifier = context.RequestServices.GetRequiredService<SignedInstallVerifier>();
            return await verifier.VerifyAsync(context, clientKey, ct);
        }

        // enabled / disabled may be signed with the installation's shared secret.
        var result = await context.AuthenticateAsync(ConnectJwtDefaults.AuthenticationScheme);
        if (!result.Succeeded)
        {
            return context.Items[ConnectJwtDefaults.FailureItemKey] as ConnectAuthFailure
                ?? new ConnectAuthFailure("jwt.missing", "Lifecycle callbacks must carry a Connect JWT.");
        }

        return result.Principal.FindFirst(ConnectJwtDefaults.ClientKeyClaim)?.Value == clientKey
            ? null
            : new ConnectAuthFailure("install.wrong_issuer", "The token's issuer is not the clientKey of the payload.");
    }

    private static bool IsAsymmetric(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("JWT ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        try
        {
            return new JsonWebToken(header[4..].Trim()).Alg == "RS256";
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException or Microsoft.IdentityModel.Tokens.SecurityTokenException)
        {
            return false;
        }
    }

    private static async Task<(LifecycleEvent? Payload, ConnectAuthFailure? Failure)> ReadPayloadAsync(HttpContext context, CancellationToken ct)
    {
        if (!context.Request.HasJsonContentType())
        {
            return (null, new("lifecycle.unsupported_media_type", "The lifecycle payload must be JSON (Content-Type: application/json).", 415));
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            return (null, new("lifecycle.payload_too_large", $"The lifecycle payload is larger than {MaxBodyBytes} bytes.", 413));
        }

        LifecycleEvent? payload;
        try
        {
            using var limited = new MemoryStream();
            var buffer = new byte[8192];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, ct)) > 0)
            {
                if (limited.Length + read > MaxBodyBytes)
                {
                    return (null, new("lifecycle.payload_too_large", $"The lifecycle payload is larger than {MaxBodyBytes} bytes.", 413));
                }

                limited.Write(buffer, 0, read);
            }

            payload = JsonSerializer.Deserialize<LifecycleEvent>(limited.ToArray());
        }
        catch (JsonException)
        {
            return (null, new("lifecycle.malformed_body", "The lifecycle payload is not valid JSON.", 400));
        }

        if (payload is null || string.IsNullOrWhiteSpace(payload.ClientKey) || payload.ClientKey.Length > 255)
        {
            return (null, new("lifecycle.missing_client_key", "The lifecycle payload has no clientKey (or one over 255 characters).", 400));
        }

        return (payload, null);
    }

    private static ConnectAuthFailure? Validate(LifecycleEvent payload, string eventType, ConnectOptions options)
    {
        if (payload.Key != options.AppKey)
        {
            return new("lifecycle.wrong_app_key", "The payload's key is not this app's key.", 400);
        }

        if (!options.IsAllowedTenantBaseUrl(payload.BaseUrl))
        {
            return new("lifecycle.base_url_not_allowed", "The payload's baseUrl is not an https URL on an allowed host.", 400);
        }

        if (eventType == "installed" && (string.IsNullOrEmpty(payload.SharedSecret) || payload.SharedSecret.Length > 1024))
        {
            return new("lifecycle.missing_shared_secret", "An installed payload must carry a sharedSecret.", 400);
        }

        return null;
    }
}
