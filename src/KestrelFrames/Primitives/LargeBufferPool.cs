using System.Buffers;
using System.Numerics;

namespace KestrelFrames.Primitives;

/// <summary>
/// Request and answer buffers. Up to 16 KiB they come from <see cref="ArrayPool{T}.Shared"/>, whose per-thread
/// caches are fastest and small at those sizes. Larger ones come from here: <c>ArrayPool.Shared</c> keeps up to 32
/// arrays per size per core until a full collection trims it, so a burst of 256 KiB frames left 16 MB behind on two
/// cores for good (the 10-minute soak's growth). Here the idle arrays of each power-of-two size are capped and
/// <see cref="PoolTrimmer"/> lets them decay, as the transport's blocks do.
/// </summary>
internal sealed class LargeBufferPool : ArrayPool<byte>, ITrimmablePool
{
    /// <summary>The largest array taken from <see cref="ArrayPool{T}.Shared"/>.</summary>
    public const int SharedMaxLength = 16 * 1024;

    // Idle bytes kept per size at most (at least one array below this size; none above it).
    internal const int RetainedBytesPerSize = 8 * 1024 * 1024;

    private const int SmallestShift = 15; // 32 KiB, the first size above SharedMaxLength.
    private readonly IdleList<byte[]>[] _sizes = new IdleList<byte[]>[31 - SmallestShift];
    private long _dropped;

    public LargeBufferPool()
    {
        for (int i = 0; i < _sizes.Length; i++)
        {
            _sizes[i] = new IdleList<byte[]>(RetainedBytesPerSize >> (i + SmallestShift));
        }
    }

    public long DroppedBytes => Interlocked.Read(ref _dropped);

    /// <summary>Bytes in idle arrays kept for reuse (the shared pool's small ones not counted).</summary>
    public long PooledBytes
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _sizes.Length; i++)
            {
                total += (long)_sizes[i].Count << (i + SmallestShift);
            }

            return total;
        }
    }

    public override byte[] Rent(int minimumLength)
    {
        if (minimumLength <= SharedMaxLength)
        {
            return Shared.Rent(minimumLength);
        }

        int shift = SizeShift((uint)minimumLength);
        return _sizes[shift - SmallestShift].TryTake(out byte[]? array)
            ? array!
            : GC.AllocateUninitializedArray<byte>(1 << shift);
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        if (array.Length <= SharedMaxLength)
        {
            Shared.Return(array, clearArray);
            return;
        }

        if (!BitOperations.IsPow2(array.Length))
        {
            throw new ArgumentException("The array was not rented from this pool.", nameof(array));
        }

        if (clearArray)
        {
            Array.Clear(array);
        }

        if (!_sizes[BitOperations.Log2((uint)array.Length) - SmallestShift].TryAdd(array))
        {
            Interlocked.Add(ref _dropped, array.Length);
        }
    }

    public void Trim()
    {
        for (int i = 0; i < _sizes.Length; i++)
        {
            int dropped = _sizes[i].Trim();
            Interlocked.Add(ref _dropped, (long)dropped << (i + SmallestShift));
        }
    }

    private static int SizeShift(uint length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, 1u << 30);
        return BitOperations.Log2(BitOperations.RoundUpToPowerOf2(length));
    }
}
