using System.Buffers;

namespace KestrelFrames.Transport;

/// <summary>
/// One block of <see cref="EpollPipeWriter"/>'s output: from the transport's pool, or from the shared array pool for
/// a size hint larger than its blocks (as a Pipe does). The object outlives its block: the writer reuses it.
/// </summary>
internal sealed class OutputSegment
{
    private IMemoryOwner<byte>? _owner;
    private byte[]? _array;

    public Memory<byte> Memory { get; private set; }

    /// <summary>Bytes written into <see cref="Memory"/>.</summary>
    public int End { get; set; }

    public OutputSegment? Next { get; set; }

    public void Rent(MemoryPool<byte> pool, int size)
    {
        if (size <= pool.MaxBufferSize)
        {
            _owner = pool.Rent(size);
            Memory = _owner.Memory;
        }
        else
        {
            _array = ArrayPool<byte>.Shared.Rent(size);
            Memory = _array;
        }
    }

    public void Return()
    {
        _owner?.Dispose();
        if (_array is not null)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _owner = null;
        _array = null;
        Memory = default;
        End = 0;
        Next = null;
    }
}
