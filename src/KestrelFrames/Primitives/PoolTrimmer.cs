namespace KestrelFrames.Primitives;

/// <summary>
/// Trims the server's pools (the transport's blocks, the large request and answer buffers) and glibc's free native
/// memory (<see cref="NativeHeap"/>) every <see cref="TrimPeriod"/>, so memory kept after a burst decays to what the
/// load uses.
/// </summary>
internal sealed class PoolTrimmer : IDisposable
{
    /// <summary>How often idle memory is trimmed: long enough that a load with pauses keeps its buffers.</summary>
    public static readonly TimeSpan TrimPeriod = TimeSpan.FromSeconds(10);

    // Dropped blocks are pinned-heap garbage and dropped buffers from 128 KiB up large-object-heap garbage, both
    // collected only by a full collection, which a server that allocates little may not run for hours: RSS stays at
    // the burst's high-water mark. Past this much garbage since the last one, a trim asks for a background
    // (non-blocking: requests keep flowing) full collection.
    internal const long CollectAfterDroppedBytes = 16L * 1024 * 1024;
    private readonly List<ITrimmablePool> _pools = [];
    private readonly ITimer _timer;
    private long _droppedAtLastCollect;

    public PoolTrimmer(TimeProvider time, LargeBufferPool buffers)
    {
        _pools.Add(buffers);
        _timer = time.CreateTimer(static state => ((PoolTrimmer)state!).Trim(), this, TrimPeriod, TrimPeriod);
    }

    /// <summary>Asks for the collection; tests count the calls instead.</summary>
    internal Action RequestCollection { get; set; } = static () => GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false);

    /// <summary>Gives free native memory back; tests count the calls instead.</summary>
    internal Action TrimNativeHeap { get; set; } = NativeHeap.Trim;

    public void Add(ITrimmablePool pool)
    {
        lock (_pools)
        {
            _pools.Add(pool);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Trim()
    {
        long dropped = 0;
        lock (_pools)
        {
            foreach (ITrimmablePool pool in _pools)
            {
                pool.Trim();
                dropped += pool.DroppedBytes;
            }
        }

        if (dropped - _droppedAtLastCollect >= CollectAfterDroppedBytes)
        {
            _droppedAtLastCollect = dropped;
            RequestCollection();
        }

        TrimNativeHeap();
    }
}
