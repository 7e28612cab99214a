using System.Buffers;

namespace KestrelFrames.Primitives;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over arrays rented from the server's buffer pool, reused across the
/// requests of one answer slot. <see cref="Reset"/> hands the array back so an idle connection holds none.
/// </summary>
internal sealed class PooledBufferWriter(LargeBufferPool pool, ResourceLedger ledger) : IBufferWriter<byte>
{
    private const int MinimumSize = 256;
    private byte[] _buffer = [];
    private int _written;
    private bool _sealed;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public int WrittenCount => _written;

    /// <summary>Refuses every later write, until <see cref="Reset"/>; false if something was written already.</summary>
    public bool TrySeal()
    {
        _sealed = _written == 0;
        return _sealed;
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > _buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        int start = Ensure(sizeHint);
        return _buffer.AsMemory(start);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        int start = Ensure(sizeHint);
        return _buffer.AsSpan(start);
    }

    public void Reset()
    {
        if (_buffer.Length > 0)
        {
            pool.Return(_buffer);
            ledger.Returned(LedgerEntry.ResponseBuffer);
            _buffer = [];
        }

        _written = 0;
        _sealed = false;
    }

    private int Ensure(int sizeHint)
    {
        if (_sealed)
        {
            throw new InvalidOperationException("The answer is the request itself (RespondWithRequest): nothing more can be written.");
        }

        int needed = _written + Math.Max(sizeHint, 1);
        if (needed > _buffer.Length)
        {
            byte[] larger = pool.Rent(Math.Max(needed, Math.Max(MinimumSize, _buffer.Length * 2)));
            _buffer.AsSpan(0, _written).CopyTo(larger);
            if (_buffer.Length > 0)
            {
                pool.Return(_buffer);
            }
            else
            {
                ledger.Took(LedgerEntry.ResponseBuffer);
            }

            _buffer = larger;
        }

        return _written;
    }
}
