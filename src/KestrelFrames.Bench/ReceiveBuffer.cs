namespace KestrelFrames.Bench;

/// <summary>
/// The receive loop's buffer: reads append at the end, answers are framed in place from the front with the shared
/// codec's <see cref="FrameHeader"/>. Compacted when little room is left at the end and grown only when an answer
/// does not fit, so a steady run allocates nothing.
/// </summary>
internal sealed class ReceiveBuffer
{
    private const int MinLength = 64 * 1024;
    private const int MaxInitialLength = 4 * 1024 * 1024;
    private const int MinReadRoom = 4096;

    private byte[] _buffer;
    private int _read;
    private int _written;

    /// <param name="frameLength">A whole request frame: the buffer starts with room for two echoed answers (within limits).</param>
    public ReceiveBuffer(int frameLength) =>
        _buffer = new byte[Math.Max(MinLength, Math.Min(2 * frameLength, MaxInitialLength))];

    /// <summary>Room for the next read, at the end of what is buffered; call <see cref="Advance"/> with what it read.</summary>
    public Memory<byte> GetMemory()
    {
        if (_read == _written)
        {
            _read = _written = 0;
        }
        else if (_buffer.Length - _written < MinReadRoom && _read > 0)
        {
            _buffer.AsSpan(_read, _written - _read).CopyTo(_buffer);
            _written -= _read;
            _read = 0;
        }

        if (_written == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        return _buffer.AsMemory(_written);
    }

    public void Advance(int count) => _written += count;

    /// <summary>Drops everything buffered (after the window, answers are read and not counted).</summary>
    public void Clear() => _read = _written = 0;

    /// <summary>
    /// Reads the answer at the front with the codec: on <see cref="FrameReadResult.Frame"/> it is consumed and
    /// <paramref name="payload"/> is a slice of this buffer, valid until the next <see cref="GetMemory"/>. On
    /// <see cref="FrameReadResult.Incomplete"/> with the header in, room is made for the whole answer.
    /// </summary>
    public FrameReadResult TryRead(int maxPayloadLength, out FrameHeader header, out ReadOnlySpan<byte> payload)
    {
        FrameReadResult result = FrameCodec.TryRead(_buffer.AsSpan(_read, _written - _read), maxPayloadLength, out header, out payload);
        if (result == FrameReadResult.Frame)
        {
            _read += FrameHeader.Size + payload.Length;
        }
        else if (result == FrameReadResult.Incomplete && _written - _read >= FrameHeader.Size)
        {
            MakeRoom(FrameHeader.Size + (int)header.PayloadLength);
        }

        return result;
    }

    private void MakeRoom(int frameLength)
    {
        if (frameLength <= _buffer.Length - _read)
        {
            return;
        }

        if (frameLength > _buffer.Length)
        {
            byte[] larger = new byte[frameLength + MinLength];
            _buffer.AsSpan(_read, _written - _read).CopyTo(larger);
            _buffer = larger;
        }
        else
        {
            _buffer.AsSpan(_read, _written - _read).CopyTo(_buffer);
        }

        _written -= _read;
        _read = 0;
    }
}
