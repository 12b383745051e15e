namespace ConnectApp.Hosting;

/// <summary>What this process runs; one executable, the role chosen on the command line (see the Procfile).</summary>
internal enum ProcessRole
{
    /// <summary>web and worker in one process: the local default.</summary>
    All,

    /// <summary>Kestrel: descriptor, lifecycle, pages, API, health.</summary>
    Web,

    /// <summary>Background work: the job-queue worker (CSV imports).</summary>
    Worker,

    /// <summary>Apply database migrations and row-level security, then exit.</summary>
    Migrate,
}

internal static class ProcessRoles
{
    public static bool TryParse(string[] args, out ProcessRole role)
    {
        var name = args.FirstOrDefault(a => !a.StartsWith('-')) ?? "all";
        return Enum.TryParse(name, ignoreCase: true, out role) && Enum.IsDefined(role);
    }

    public static bool RunsWeb(this ProcessRole role) => role is ProcessRole.All or ProcessRole.Web;

    public static bool RunsWorker(this ProcessRole role) => role is ProcessRole.All or ProcessRole.Worker;
}
