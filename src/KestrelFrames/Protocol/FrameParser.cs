using System.Buffers;
using System.Buffers.Binary;

namespace KestrelFrames.Protocol;

/// <summary>Parses client-to-server frames straight out of a pipe's buffer, without copying.</summary>
public static class FrameParser
{
    /// <summary>
    /// Parses one frame from the start of <paramref name="buffer"/>. On <see cref="FrameParseResult.Frame"/>,
    /// <paramref name="payload"/> is a slice of the buffer and <paramref name="buffer"/> is advanced past the frame.
    /// The length is validated from the header alone, so an oversize frame is rejected before any of its payload
    /// is buffered.
    /// </summary>
    public static FrameParseResult TryParse(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (buffer.Length < FrameHeader.Size)
        {
            return FrameParseResult.Incomplete;
        }

        uint length = ReadHeader(buffer);
        if ((length & FrameHeader.StatusFlag) != 0)
        {
            return FrameParseResult.ProtocolError;
        }

        if (length > (uint)maxFrameSize)
        {
            return FrameParseResult.FrameTooLarge;
        }

        if (buffer.Length - FrameHeader.Size < length)
        {
            return FrameParseResult.Incomplete;
        }

        payload = buffer.Slice(FrameHeader.Size, length);
        buffer = buffer.Slice(payload.End);
        return FrameParseResult.Frame;
    }

    /// <summary>
    /// The payload length of the frame at the start of <paramref name="buffer"/>, once its header has arrived;
    /// meaningful after <see cref="TryParse"/> returned <see cref="FrameParseResult.Incomplete"/>.
    /// </summary>
    public static bool TryPeekLength(in ReadOnlySequence<byte> buffer, out int length)
    {
        if (buffer.Length < FrameHeader.Size)
        {
            length = 0;
            return false;
        }

        length = (int)(ReadHeader(buffer) & ~FrameHeader.StatusFlag);
        return true;
    }

    private static uint ReadHeader(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= FrameHeader.Size)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(first);
        }

        // The header straddles segments: rare, so a stack copy is fine.
        Span<byte> header = stackalloc byte[FrameHeader.Size];
        buffer.Slice(0, FrameHeader.Size).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header);
    }
}
