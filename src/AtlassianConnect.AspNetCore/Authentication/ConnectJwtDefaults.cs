namespace AtlassianConnect.Authentication;

/// <summary>Names used by the Connect JWT authentication scheme.</summary>
public static class ConnectJwtDefaults
{
    /// <summary>The scheme name.</summary>
    public const string AuthenticationScheme = "ConnectJwt";

    /// <summary>Claim: the app's tenant id (a GUID).</summary>
    public const string TenantIdClaim = "connect:tenant_id";

    /// <summary>Claim: the installation's clientKey.</summary>
    public const string ClientKeyClaim = "connect:client_key";

    /// <summary>Claim: the Atlassian accountId of the user, when the token names one.</summary>
    public const string AccountIdClaim = "connect:account_id";

    /// <summary>Claim: <c>context</c> for a context token (<c>qsh = context-qsh</c>), <c>request</c> otherwise.</summary>
    public const string TokenKindClaim = "connect:token_kind";

    /// <summary><see cref="Microsoft.AspNetCore.Http.HttpContext.Items"/> key of the <see cref="ConnectAuthFailure"/> of a rejected request.</summary>
    public const string FailureItemKey = "connect:auth_failure";
}

/// <summary>Why a Connect token was rejected: a stable code for clients and a sentence for people.</summary>
/// <param name="Code">Stable, machine-readable (e.g. <c>jwt.expired</c>).</param>
/// <param name="Detail">Human-readable, never containing the token or a secret.</param>
/// <param name="Status">The HTTP status to answer with.</param>
public sealed record ConnectAuthFailure(string Code, string Detail, int Status = 401);

/// <summary>Endpoint metadata: context tokens (<c>qsh = context-qsh</c>) are accepted here.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class AllowContextTokenAttribute : Attribute;

/// <summary>Endpoint metadata: tokens of a disabled (not uninstalled) installation are accepted here.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class AllowDisabledTenantAttribute : Attribute;
