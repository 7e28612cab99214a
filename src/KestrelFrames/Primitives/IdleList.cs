using System.Collections.Concurrent;

namespace KestrelFrames.Primitives;

/// <summary>
/// The idle items of one pool: a lock-free queue with a cap, and a low-water mark that <see cref="Trim"/> reads to
/// drop what no rent needed for a whole trim window. Shared by the transport's blocks and the large request and
/// answer buffers, so both decay after a burst the same way.
/// </summary>
internal sealed class IdleList<T>(int retained)
    where T : class
{
    private readonly ConcurrentQueue<T> _items = new();
    private int _count;
    // The fewest idle items since the last Trim: items that no rent needed for that whole window.
    private int _lowWater;

    public int Count => Volatile.Read(ref _count);

    public bool TryTake(out T? item)
    {
        if (!_items.TryDequeue(out item))
        {
            return false;
        }

        int idle = Interlocked.Decrement(ref _count);
        if (idle < _lowWater)
        {
            // A racy minimum is fine: Trim reads it as a hint, and a miss only keeps an item one window longer.
            _lowWater = idle;
        }

        return true;
    }

    /// <summary>Keeps <paramref name="item"/> for reuse; false when the list is at its cap (the caller drops it).</summary>
    public bool TryAdd(T item)
    {
        if (Interlocked.Increment(ref _count) <= retained)
        {
            _items.Enqueue(item);
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }

    /// <summary>
    /// Drops half of the idle items that no rent needed since the last trim (at least one when there are any), so
    /// what is kept after a burst decays to what the load uses. Returns how many were dropped.
    /// </summary>
    public int Trim()
    {
        int surplus = Math.Min(_lowWater, Count);
        int dropped = 0;
        for (int i = 0; i < (surplus + 1) / 2 && _items.TryDequeue(out _); i++)
        {
            Interlocked.Decrement(ref _count);
            dropped++;
        }

        _lowWater = Count;
        return dropped;
    }
}
