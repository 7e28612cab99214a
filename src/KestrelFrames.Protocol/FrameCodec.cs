using System.Buffers;

namespace KestrelFrames;

/// <summary>
/// Reads and writes frames, for both directions: the server reads requests and writes answers and statuses with
/// it, the client writes requests and reads answers. It states the format; each side applies its own policy (the
/// server refuses a header with the status bit, the client takes one as a status).
/// </summary>
public static class FrameCodec
{
    /// <summary>
    /// Reads the header at the start of <paramref name="buffer"/>, once its four bytes have arrived, without
    /// consuming anything.
    /// </summary>
    public static bool TryReadHeader(in ReadOnlySequence<byte> buffer, out FrameHeader header)
    {
        if (FrameHeader.TryRead(buffer.FirstSpan, out header))
        {
            return true;
        }

        if (buffer.Length < FrameHeader.Size)
        {
            return false;
        }

        // The header straddles segments: rare, so a stack copy is fine.
        Span<byte> bytes = stackalloc byte[FrameHeader.Size];
        buffer.Slice(0, FrameHeader.Size).CopyTo(bytes);
        return FrameHeader.TryRead(bytes, out header);
    }

    /// <summary>
    /// Reads one frame from the start of <paramref name="buffer"/>. On <see cref="FrameReadResult.Frame"/>,
    /// <paramref name="payload"/> is a slice of the buffer (no copy) and <paramref name="buffer"/> is advanced past
    /// the frame. The length is checked against <paramref name="maxPayloadLength"/> from the header alone, so an
    /// oversize frame is refused before any of its payload is buffered. <paramref name="header"/> is set whenever
    /// its four bytes have arrived, whatever the result.
    /// </summary>
    public static FrameReadResult TryRead(ref ReadOnlySequence<byte> buffer, int maxPayloadLength, out FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (!TryReadHeader(buffer, out header))
        {
            return FrameReadResult.Incomplete;
        }

        FrameReadResult result = Classify(header, buffer.Length, maxPayloadLength);
        if (result == FrameReadResult.Frame)
        {
            payload = buffer.Slice(FrameHeader.Size, header.PayloadLength);
            buffer = buffer.Slice(payload.End);
        }

        return result;
    }

    /// <summary>
    /// <see cref="TryRead(ref ReadOnlySequence{byte}, int, out FrameHeader, out ReadOnlySequence{byte})"/> over one
    /// contiguous buffer, for readers that frame in place: on <see cref="FrameReadResult.Frame"/>,
    /// <paramref name="payload"/> is a slice of <paramref name="buffer"/> and the frame is
    /// <c>FrameHeader.Size + payload.Length</c> bytes long; nothing is consumed.
    /// </summary>
    public static FrameReadResult TryRead(ReadOnlySpan<byte> buffer, int maxPayloadLength, out FrameHeader header, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        if (!FrameHeader.TryRead(buffer, out header))
        {
            return FrameReadResult.Incomplete;
        }

        FrameReadResult result = Classify(header, buffer.Length, maxPayloadLength);
        if (result == FrameReadResult.Frame)
        {
            payload = buffer.Slice(FrameHeader.Size, (int)header.PayloadLength);
        }

        return result;
    }

    /// <summary>
    /// The code of a status frame, from byte 0 of its <paramref name="payload"/>; false when the payload is empty (a
    /// malformed status). The code may be one this version does not name.
    /// </summary>
    public static bool TryReadStatus(in ReadOnlySequence<byte> payload, out FrameStatus status)
    {
        status = payload.IsEmpty ? default : (FrameStatus)payload.FirstSpan[0];
        return !payload.IsEmpty;
    }

    /// <summary>Writes a header announcing <paramref name="payloadLength"/> bytes (status bit clear).</summary>
    public static void WriteHeader(IBufferWriter<byte> output, int payloadLength)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        new FrameHeader((uint)payloadLength, IsStatus: false).WriteTo(output.GetSpan(FrameHeader.Size));
        output.Advance(FrameHeader.Size);
    }

    /// <summary>Writes a whole frame: its header, then a copy of <paramref name="payload"/>. Returns the bytes written.</summary>
    public static int WriteFrame(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        WriteHeader(output, payload.Length);
        if (!payload.IsEmpty)
        {
            output.Write(payload);
        }

        return FrameHeader.Size + payload.Length;
    }

    /// <summary>
    /// Writes a status frame: a header with the status bit, the code, then <paramref name="utf8Reason"/>.
    /// Returns the bytes written.
    /// </summary>
    public static int WriteStatus(IBufferWriter<byte> output, FrameStatus status, ReadOnlySpan<byte> utf8Reason)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = 1 + utf8Reason.Length;
        Span<byte> span = output.GetSpan(FrameHeader.Size + length);
        new FrameHeader((uint)length, IsStatus: true).WriteTo(span);
        span[FrameHeader.Size] = (byte)status;
        utf8Reason.CopyTo(span[(FrameHeader.Size + 1)..]);
        output.Advance(FrameHeader.Size + length);
        return FrameHeader.Size + length;
    }

    // The length is checked from the header alone, before any of the payload need be buffered.
    private static FrameReadResult Classify(FrameHeader header, long available, int maxPayloadLength) =>
        header.PayloadLength > (uint)maxPayloadLength ? FrameReadResult.TooLarge
        : available - FrameHeader.Size < header.PayloadLength ? FrameReadResult.Incomplete
        : FrameReadResult.Frame;
}
