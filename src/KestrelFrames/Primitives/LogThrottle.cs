using Microsoft.Extensions.Logging;

namespace KestrelFrames.Primitives;

/// <summary>
/// Lets at most <see cref="PerInterval"/> warnings of one kind through per second and counts the rest, so a flood of
/// bad clients cannot flood the log. When a second ends with some held back, one line says how many, whether or not
/// another warning follows: a burst that ends inside a second is never lost. Each kind has its own throttle, so one
/// flood does not hide another.
/// </summary>
internal sealed partial class LogThrottle : IDisposable
{
    public const int PerInterval = 10;

    private readonly string _kind;
    private readonly LogLevel _level;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly long _interval;
    private readonly ITimer _report;
    private long _windowStart;
    private int _inWindow;
    private int _suppressed;

    public LogThrottle(string kind, LogLevel level, ILogger logger, TimeProvider time)
    {
        _kind = kind;
        _level = level;
        _logger = logger;
        _time = time;
        _interval = time.TimestampFrequency;
        _windowStart = time.GetTimestamp();
        _report = time.CreateTimer(static state => ((LogThrottle)state!).Report(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>True when this warning may be logged; false when it was counted for the next report instead.</summary>
    public bool TryEnter()
    {
        long now = _time.GetTimestamp();
        long start = Volatile.Read(ref _windowStart);
        if (now - start >= _interval && Interlocked.CompareExchange(ref _windowStart, now, start) == start)
        {
            Volatile.Write(ref _inWindow, 0);
        }

        if (Interlocked.Increment(ref _inWindow) <= PerInterval)
        {
            return true;
        }

        // The first warning held back arms the report for the end of its window; the report resets the count, so the
        // next one held back arms it again.
        if (Interlocked.Increment(ref _suppressed) == 1)
        {
            long windowEnd = Volatile.Read(ref _windowStart) + _interval;
            _report.Change(TimeSpan.FromSeconds(Math.Max(0, windowEnd - now) / (double)_time.TimestampFrequency), Timeout.InfiniteTimeSpan);
        }

        return false;
    }

    public void Dispose()
    {
        _report.Dispose();
        Report();
    }

    private void Report()
    {
        int suppressed = Interlocked.Exchange(ref _suppressed, 0);
        if (suppressed > 0)
        {
            LogSuppressed(_logger, _level, suppressed, _kind);
        }
    }

    [LoggerMessage(Message = "{Count} more {Kind} messages in the last second were suppressed.")]
    private static partial void LogSuppressed(ILogger logger, LogLevel level, int count, string kind);
}
