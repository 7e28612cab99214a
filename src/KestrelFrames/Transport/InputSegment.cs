using System.Buffers;

namespace KestrelFrames.Transport;

/// <summary>
/// One block of <see cref="EpollPipeReader"/>'s input, a segment of the sequences it hands out: its
/// <see cref="ReadOnlySequenceSegment{T}.Memory"/> is the part received so far. The object outlives its block: the
/// reader reuses it.
/// </summary>
internal sealed class InputSegment : ReadOnlySequenceSegment<byte>
{
    private IMemoryOwner<byte>? _owner;
    private int _end;

    /// <summary>The whole block: received bytes, then room.</summary>
    public Memory<byte> Block { get; private set; }

    /// <summary>Bytes received into <see cref="Block"/>.</summary>
    public int End
    {
        get => _end;
        set
        {
            _end = value;
            Memory = Block[..value];
        }
    }

    public InputSegment? NextSegment => (InputSegment?)Next;

    public void Rent(MemoryPool<byte> pool, int size)
    {
        _owner = pool.Rent(size);
        Block = _owner.Memory;
        End = 0;
    }

    /// <summary>Links this segment into the sequence after <paramref name="previous"/> (none: it starts one), its first byte the <paramref name="runningIndex"/>th.</summary>
    public void Link(InputSegment? previous, long runningIndex)
    {
        RunningIndex = runningIndex;
        previous?.Next = this;
    }

    public void Return()
    {
        _owner?.Dispose();
        _owner = null;
        Block = default;
        End = 0;
        Next = null;
    }
}
