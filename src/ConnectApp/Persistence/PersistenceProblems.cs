using System.Net.Sockets;
using ConnectApp.Problems;
using Npgsql;

namespace ConnectApp.Persistence;

/// <summary>Problems of the database itself.</summary>
internal static class PersistenceProblems
{
    /// <summary>PostgreSQL cannot be reached (or is shutting down, or out of connections): the request may be retried.</summary>
    public static readonly ProblemType Unavailable = new(503, "database.unavailable");

    public const int RetryAfterSeconds = 5;

    /// <summary>A 503 for an exception that means "the database is not there right now"; null for anything else.</summary>
    public static AppProblem? FromException(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is NpgsqlException { IsTransient: true } or PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "53300" }
                || (e is NpgsqlException && e.InnerException is SocketException or TimeoutException))
            {
                return new AppProblem(Unavailable, "The database is not available right now; try again shortly.", inner: exception) { RetryAfterSeconds = RetryAfterSeconds };
            }
        }

        return null;
    }
}
