using System.Diagnostics;

namespace KestrelFrames.Bench;

/// <summary>
/// The open loop's fixed schedule: request k of the run (k = 0, 1, ...) is due at <c>start + k / rate</c> and goes
/// to connection <c>k mod connections</c>, so each connection sends at <c>rate / connections</c> with the
/// connections evenly staggered.
/// </summary>
internal sealed class OpenLoopSchedule(long start, double rate, int connections)
{
    private readonly double _ticksPerRequest = Stopwatch.Frequency / rate;

    public int Connections { get; } = connections;

    /// <summary>Intended send time of a connection's <paramref name="sequence"/>-th request.</summary>
    public long IntendedTime(int connection, long sequence) =>
        start + (long)((connection + ((double)sequence * Connections)) * _ticksPerRequest);

    /// <summary>How many of a connection's requests are due at <paramref name="now"/> (intended time &lt;= now).</summary>
    public long DueCount(int connection, long now)
    {
        // Half a tick of slack: a request is due at the (truncated) tick IntendedTime returns for it.
        double position = ((now - start + 0.5) / _ticksPerRequest) - connection;
        return position < 0 ? 0 : (long)Math.Floor(position / Connections) + 1;
    }

    /// <summary>The run-wide index of the last request due at <paramref name="now"/>, -1 before the first.</summary>
    public long LastDueIndex(long now) => now < start ? -1 : (long)Math.Floor((now - start + 0.5) / _ticksPerRequest);

    /// <summary>When run-wide request <paramref name="index"/> is due.</summary>
    public long DueTime(long index) => start + (long)(index * _ticksPerRequest);
}
