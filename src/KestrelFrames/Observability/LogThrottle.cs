namespace KestrelFrames.Observability;

/// <summary>
/// Lets at most <see cref="PerInterval"/> warnings through per second and counts the rest, so a flood of bad clients
/// cannot flood the log; the next line that gets through reports how many were held back.
/// </summary>
internal sealed class LogThrottle(TimeProvider time)
{
    public const int PerInterval = 10;

    private readonly long _interval = time.TimestampFrequency;
    private long _windowStart;
    private int _inWindow;
    private int _suppressed;

    public bool TryEnter(out int suppressedBefore)
    {
        long now = time.GetTimestamp();
        long start = Volatile.Read(ref _windowStart);
        if (now - start >= _interval && Interlocked.CompareExchange(ref _windowStart, now, start) == start)
        {
            Volatile.Write(ref _inWindow, 0);
        }

        if (Interlocked.Increment(ref _inWindow) <= PerInterval)
        {
            suppressedBefore = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressedBefore = 0;
        return false;
    }
}
