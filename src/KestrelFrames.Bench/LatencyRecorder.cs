using System.Diagnostics;
using HdrHistogram;

namespace KestrelFrames.Bench;

/// <summary>
/// Latencies in <see cref="Stopwatch"/> ticks, in a few HdrHistograms (3 significant digits, up to 60 s) shared by
/// the connections: a histogram per connection would cost about 200 KB each. Connections buffer their samples
/// (<see cref="LatencyBuffer"/>) and add them under the shard's lock a few hundred at a time.
/// </summary>
internal sealed class LatencyRecorder
{
    public const int SignificantDigits = 3;

    private readonly Shard[] _shards;

    public LatencyRecorder(int connections)
    {
        HighestTrackable = 60 * Stopwatch.Frequency;
        int count = Math.Clamp(Environment.ProcessorCount * 2, 1, Math.Max(1, connections));
        _shards = new Shard[count];
        for (int i = 0; i < count; i++)
        {
            _shards[i] = new Shard(NewHistogram());
        }
    }

    /// <summary>Larger values are recorded as this (and show as the max).</summary>
    public long HighestTrackable { get; }

    public LatencyBuffer CreateBuffer(int connectionIndex) => new(this, _shards[connectionIndex % _shards.Length]);

    /// <summary>All samples so far in one histogram; call after the connections have flushed their buffers.</summary>
    public LongHistogram Merge()
    {
        LongHistogram total = NewHistogram();
        foreach (Shard shard in _shards)
        {
            lock (shard.Lock)
            {
                total.Add(shard.Histogram);
            }
        }

        return total;
    }

    private LongHistogram NewHistogram() => new(HighestTrackable, SignificantDigits);

    internal sealed class Shard(LongHistogram histogram)
    {
        public Lock Lock { get; } = new();

        public LongHistogram Histogram { get; } = histogram;
    }
}
