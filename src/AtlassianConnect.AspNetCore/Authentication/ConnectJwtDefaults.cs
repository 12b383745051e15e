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

    /// <summary>Claim: the Jira project id of the token's <c>context.jira.project.id</c>, when it names one (digits only).</summary>
    public const string ProjectIdClaim = "connect:project_id";

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

/// <summary>
/// Every code the library's authentication answers with, and its status: hosts list them in their API description
/// (each protected operation may answer with any of them).
/// </summary>
public static class ConnectAuthCodes
{
    /// <summary>Connect JWT failures (<see cref="ConnectJwtHandler"/>).</summary>
    public static readonly IReadOnlyList<(string Code, int Status)> ConnectJwt =
    [
        ("jwt.missing", 401), ("jwt.malformed", 401), ("jwt.malformed_request", 400), ("jwt.too_large", 401), ("jwt.ambiguous", 401),
        ("jwt.algorithm_not_allowed", 401), ("jwt.missing_issuer", 401), ("jwt.unknown_issuer", 401), ("jwt.invalid_signature", 401),
        ("jwt.missing_exp", 401), ("jwt.missing_iat", 401), ("jwt.expired", 401), ("jwt.not_yet_valid", 401), ("jwt.issued_in_future", 401),
        ("jwt.missing_qsh", 401), ("jwt.qsh_mismatch", 401), ("jwt.context_token_not_allowed", 401), ("jwt.tenant_disabled", 401),
        ("jwt.tenant_uninstalled", 401),
    ];

    /// <summary>Forge Invocation Token failures (<see cref="Forge.ForgeInvocationTokenHandler"/>).</summary>
    public static readonly IReadOnlyList<(string Code, int Status)> ForgeInvocationToken =
    [
        ("fit.missing", 401), ("fit.not_configured", 401), ("fit.too_large", 401), ("fit.malformed", 401), ("fit.algorithm_not_allowed", 401),
        ("fit.missing_kid", 401), ("fit.keys_unavailable", 503), ("fit.unknown_kid", 401), ("fit.expired", 401), ("fit.not_yet_valid", 401),
        ("fit.wrong_audience", 401), ("fit.wrong_issuer", 401), ("fit.missing_exp", 401), ("fit.invalid_signature", 401),
        ("fit.api_base_url_not_allowed", 401), ("fit.unknown_installation", 401), ("fit.tenant_uninstalled", 401), ("fit.tenant_disabled", 401),
    ];
}
