using System.Buffers;
using System.Runtime.InteropServices;

namespace KestrelFrames.Primitives;

/// <summary>
/// The transport's memory pool, with blocks larger than Kestrel's 4 KiB: a socket receive fills at most one block,
/// so a 16 KiB frame in 4 KiB blocks costs five receives and five wake-ups of the read loop. Blocks are pinned
/// (the socket reads into them) and reused; at most <c>retained</c> idle blocks are kept, the rest are left to the GC.
/// Blocks in use are counted as created - dropped - idle: the hot path (a reused block) counts nothing more than
/// the idle count it already keeps.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>, ITrimmablePool
{
    private readonly IdleList<Block> _idle;
    private readonly int _blockSize;
    private long _created;
    private long _dropped;
    private volatile bool _disposed;

    public BlockMemoryPool(int blockSize, int retained)
    {
        _blockSize = blockSize;
        _idle = new IdleList<Block>(retained);
    }

    public override int MaxBufferSize => _blockSize;

    /// <summary>Bytes in blocks handed out and not yet returned: what connections hold now.</summary>
    public long RentedBytes => (Interlocked.Read(ref _created) - Interlocked.Read(ref _dropped) - _idle.Count) * _blockSize;

    public long DroppedBytes => Interlocked.Read(ref _dropped) * _blockSize;

    /// <summary>Bytes in idle blocks kept for reuse.</summary>
    public long PooledBytes => (long)_idle.Count * _blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, _blockSize);
        if (_idle.TryTake(out Block? block))
        {
            return block!;
        }

        Interlocked.Increment(ref _created);
        return new Block(this, GC.AllocateUninitializedArray<byte>(_blockSize, pinned: true));
    }

    /// <summary>
    /// Drops half of the idle blocks that no rent needed since the last trim, so the blocks kept after a burst decay
    /// to what the load uses instead of staying at the high-water mark for the life of the process. Called every few
    /// seconds, never on the hot path. Returns the blocks dropped.
    /// </summary>
    public int Trim()
    {
        int dropped = _idle.Trim();
        Interlocked.Add(ref _dropped, dropped);
        return dropped;
    }

    void ITrimmablePool.Trim() => Trim();

    protected override void Dispose(bool disposing) => _disposed = true;

    private void Return(Block block)
    {
        // Over the cap (after a burst) the block is dropped: the pinned heap gives its memory back.
        if (_disposed || !_idle.TryAdd(block))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    private sealed class Block(BlockMemoryPool pool, byte[] array) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = MemoryMarshal.CreateFromPinnedArray(array, 0, array.Length);

        public void Dispose() => pool.Return(this);
    }
}
