namespace ConnectApp.Hosting;

/// <summary>What this process runs; one executable, the role chosen on the command line (see the Procfile).</summary>
internal enum ProcessRole
{
    /// <summary>web and worker in one process: the local default.</summary>
    All,

    /// <summary>Kestrel: descriptor, lifecycle, pages, API, health.</summary>
    Web,

    /// <summary>Background work: the outbox relay and the RabbitMQ consumers (search mirror, CSV imports, reindex).</summary>
    Worker,

    /// <summary>Apply database migrations and row-level security, then exit.</summary>
    Migrate,

    /// <summary>Rebuild the search index of one tenant or all from PostgreSQL, printing progress, then exit.</summary>
    Reindex,

    /// <summary>Re-encrypt every stored secret under SECRETS_KEY (from SECRETS_KEY_PREVIOUS), then exit; written <c>rotate-secrets</c>.</summary>
    RotateSecrets,
}

internal static class ProcessRoles
{
    public static bool TryParse(string[] args, out ProcessRole role)
    {
        var name = (args.FirstOrDefault(a => !a.StartsWith('-')) ?? "all").Replace("-", string.Empty, StringComparison.Ordinal); // rotate-secrets
        return Enum.TryParse(name, ignoreCase: true, out role) && Enum.IsDefined(role);
    }

    public static bool RunsWeb(this ProcessRole role) => role is ProcessRole.All or ProcessRole.Web;

    public static bool RunsWorker(this ProcessRole role) => role is ProcessRole.All or ProcessRole.Worker;
}
