namespace ConnectApp.Tests.Infrastructure;

/// <summary>
/// The app's log for the whole test run (LOG_FILE, written through the production redacting formatter), and the
/// list of every secret and token the tests handed the app. scripts/check-log-hygiene.sh greps the one for the other.
/// </summary>
internal static class TestLog
{
    private static readonly Lock Gate = new();

    public static string Directory { get; } = Path.Combine(ConnectTesting.AtlassianJwtOracle.RepositoryRoot(), "TestResults");

    public static string FilePath { get; } = Path.Combine(Directory, "app-log.jsonl");

    public static string SecretsPath { get; } = Path.Combine(Directory, "secrets-used.txt");

    public static void RecordSecret(string secret)
    {
        lock (Gate)
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.AppendAllText(SecretsPath, secret + Environment.NewLine);
        }
    }

    public static string Read()
    {
        using var stream = new FileStream(FilePath, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
