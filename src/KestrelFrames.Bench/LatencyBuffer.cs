using HdrHistogram;

namespace KestrelFrames.Bench;

/// <summary>One connection's pending samples; used by that connection's receive loop only.</summary>
internal sealed class LatencyBuffer(LatencyRecorder recorder, LatencyRecorder.Shard shard)
{
    private readonly long[] _pending = new long[512];
    private int _count;

    public void Record(long ticks)
    {
        _pending[_count++] = Math.Clamp(ticks, 0, recorder.HighestTrackable);
        if (_count == _pending.Length)
        {
            Flush();
        }
    }

    public void Flush()
    {
        if (_count == 0)
        {
            return;
        }

        lock (shard.Lock)
        {
            LongHistogram histogram = shard.Histogram;
            for (int i = 0; i < _count; i++)
            {
                histogram.RecordValue(_pending[i]);
            }
        }

        _count = 0;
    }
}
