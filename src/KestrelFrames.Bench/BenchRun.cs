using System.Diagnostics;

namespace KestrelFrames.Bench;

/// <summary>The state one run's connections share: its clock marks, counters and schedule.</summary>
internal sealed class BenchRun
{
    private long _end;
    private int _stopping;
    private string? _firstMismatch;

    public BenchRun(BenchOptions options, int connections, long start)
    {
        Options = options;
        Start = start;
        WarmEnd = start + ToTicks(options.Warmup);
        _end = WarmEnd + ToTicks(options.Duration);
        Latency = new LatencyRecorder(connections);
        if (options.Rate is { } rate)
        {
            Schedule = new OpenLoopSchedule(start, rate, connections);
        }
    }

    public BenchOptions Options { get; }

    /// <summary>When the load started (<see cref="Stopwatch"/> ticks); open-loop requests are scheduled from here.</summary>
    public long Start { get; }

    /// <summary>Start of the measured window: answers received from here on count.</summary>
    public long WarmEnd { get; }

    /// <summary>End of the measured window; moved earlier when the run is cancelled.</summary>
    public long End => Volatile.Read(ref _end);

    /// <summary>The open-loop schedule, or null for the closed loop.</summary>
    public OpenLoopSchedule? Schedule { get; }

    public BenchErrors Errors { get; } = new();

    public LatencyRecorder Latency { get; }

    /// <summary>Set once the window is over and the connections are being closed: nothing counts any more.</summary>
    public bool Stopping => Volatile.Read(ref _stopping) != 0;

    public string? FirstMismatch => Volatile.Read(ref _firstMismatch);

    /// <summary>Whether an error or mismatch seen at <paramref name="now"/> counts: from the start to the window's end.</summary>
    public bool Counts(long now) => now < End && !Stopping;

    public bool InWindow(long now) => now >= WarmEnd && now < End;

    public void EndNow()
    {
        long now = Stopwatch.GetTimestamp();
        long end = Volatile.Read(ref _end);
        while (now < end)
        {
            long seen = Interlocked.CompareExchange(ref _end, now, end);
            if (seen == end)
            {
                return;
            }

            end = seen;
        }
    }

    public void Stop() => Volatile.Write(ref _stopping, 1);

    public void NoteMismatch(string description) => Interlocked.CompareExchange(ref _firstMismatch, description, null);

    public static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    public static double ToSeconds(long ticks) => (double)ticks / Stopwatch.Frequency;
}
