namespace JiraSimulator;

/// <summary>Injected faults counted down by the requests that take them: each request takes at most one, never below zero.</summary>
internal static class Countdown
{
    /// <summary>Takes one from <paramref name="left"/> if any is left; whether it did.</summary>
    public static bool TakeOne(ref int left)
    {
        while (true)
        {
            var now = Volatile.Read(ref left);
            if (now <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref left, now - 1, now) == now)
            {
                return true;
            }
        }
    }
}
