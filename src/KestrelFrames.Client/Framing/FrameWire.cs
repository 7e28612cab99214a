using System.Buffers;
using System.Buffers.Binary;

namespace KestrelFrames.Client.Framing;

/// <summary>
/// The client's side of the wire format: a 4-byte big-endian length, then that many bytes. Requests and heartbeats
/// go out with the high bit clear; answers come back the same way, or as status frames with the high bit set.
/// </summary>
internal static class FrameWire
{
    /// <summary>Bytes in a frame header.</summary>
    public const int HeaderSize = 4;

    /// <summary>The high bit of a header: set only on server-to-client status frames.</summary>
    public const uint StatusFlag = 0x8000_0000;

    /// <summary>Status codes from this one up are the server's last frame before it closes the connection.</summary>
    public const byte FirstClosingCode = 0x10;

    /// <summary>Writes a whole frame into <paramref name="output"/>: its header, then a copy of <paramref name="payload"/>.</summary>
    /// <returns>The bytes written.</returns>
    public static int WriteFrame(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(HeaderSize), (uint)payload.Length);
        output.Advance(HeaderSize);
        if (!payload.IsEmpty)
        {
            output.Write(payload);
        }

        return HeaderSize + payload.Length;
    }

    /// <summary>
    /// Reads one server frame from the start of <paramref name="buffer"/>. On <see cref="InboundReadResult.Frame"/>
    /// the frame's payload is a slice of the buffer and <paramref name="buffer"/> is advanced past it.
    /// </summary>
    public static InboundReadResult TryRead(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out InboundFrame frame, out uint announcedLength)
    {
        frame = default;
        announcedLength = 0;
        if (buffer.Length < HeaderSize)
        {
            return InboundReadResult.Incomplete;
        }

        uint header = ReadHeader(buffer);
        bool isStatus = (header & StatusFlag) != 0;
        announcedLength = header & ~StatusFlag;
        if (announcedLength > (uint)maxFrameSize)
        {
            return InboundReadResult.TooLarge;
        }

        if (buffer.Length - HeaderSize < announcedLength)
        {
            return InboundReadResult.Incomplete;
        }

        ReadOnlySequence<byte> payload = buffer.Slice(HeaderSize, announcedLength);
        buffer = buffer.Slice(payload.End);
        frame = new InboundFrame(isStatus, payload);
        return InboundReadResult.Frame;
    }

    private static uint ReadHeader(in ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        if (first.Length >= HeaderSize)
        {
            return BinaryPrimitives.ReadUInt32BigEndian(first);
        }

        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header);
    }
}
