namespace KestrelFrames.Primitives;

/// <summary>
/// A token bucket of <c>burst</c> tokens refilled at <c>perSecond</c>, kept as the generic cell rate algorithm
/// (GCRA) keeps it: a bucket's whole state is one <see cref="long"/>, the time at which its schedule of admitted
/// events catches up with the clock (its "theoretical arrival time"). Taking a token moves that time one interval
/// on; the bucket is empty when it runs more than <c>burst - 1</c> intervals ahead of now, and full once now has
/// passed it. So a take is one compare-and-swap, with no lock, no timer and no refill walk: the refill is the clock
/// itself, read from the caller's <see cref="TimeProvider"/> (tests drive it with a fake one). This struct is the
/// policy, shared by every bucket of one limit; the state lives in the caller's field.
/// </summary>
internal readonly struct TokenBucket
{
    /// <summary>The state of a bucket that has never been used: full at any time.</summary>
    public const long Full = long.MinValue;

    // Timestamp ticks per token. Rounded down, so the rate is at most a tick per token faster than asked
    // (exact for any rate that divides the clock's frequency: 10^9 on Linux).
    private readonly long _interval;

    // How far the schedule may run ahead of now: burst - 1 intervals.
    private readonly long _tolerance;

    public TokenBucket(int perSecond, int burst, long timestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        _interval = Math.Max(1, timestampFrequency / perSecond);
        _tolerance = (burst - 1) * _interval;
    }

    /// <summary>Takes a token from the bucket whose state is <paramref name="state"/>, if one is left at <paramref name="now"/>.</summary>
    public bool TryTake(ref long state, long now)
    {
        while (true)
        {
            long schedule = Volatile.Read(ref state);
            long start = Math.Max(schedule, now);
            if (start - now > _tolerance)
            {
                // Empty. A refusal writes nothing: a client over its rate costs one read per request.
                return false;
            }

            if (Interlocked.CompareExchange(ref state, start + _interval, schedule) == schedule)
            {
                return true;
            }
        }
    }

    /// <summary>
    /// True when the bucket is full at <paramref name="now"/>: forgetting its state and starting again from
    /// <see cref="Full"/> would change nothing, which is what lets an idle bucket be dropped.
    /// </summary>
    public static bool IsFull(ref long state, long now) => Volatile.Read(ref state) <= now;
}
