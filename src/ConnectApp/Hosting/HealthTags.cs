namespace ConnectApp.Hosting;

/// <summary>Tags of health checks: <see cref="Ready"/> checks make up <c>/health/ready</c>.</summary>
internal static class HealthTags
{
    public const string Ready = "ready";
}
