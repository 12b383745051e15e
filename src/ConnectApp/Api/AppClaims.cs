namespace ConnectApp.Api;

/// <summary>Claims the app adds to principals (the Connect library's own are in <c>ConnectJwtDefaults</c>).</summary>
internal static class AppClaims
{
    /// <summary>An API token's scope (read, write); one claim per scope.</summary>
    public const string TokenScope = "connectapp:token_scope";

    /// <summary>The id of the API token that authenticated the request.</summary>
    public const string TokenId = "connectapp:token_id";
}
