namespace KestrelFrames.Tests.Infrastructure;

/// <summary>The most a counter shared by concurrent handlers reached, kept without a lock.</summary>
internal static class AtomicMax
{
    public static void Raise(ref long max, long value)
    {
        long seen = Interlocked.Read(ref max);
        while (value > seen)
        {
            long previous = Interlocked.CompareExchange(ref max, value, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }
}
