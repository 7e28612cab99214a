using System.Buffers.Binary;

namespace KestrelFrames;

/// <summary>
/// A frame header: a 4-byte big-endian length whose high bit marks a status frame (server to client only), then
/// that many payload bytes.
/// </summary>
/// <param name="PayloadLength">The payload bytes that follow the header, without the status bit.</param>
/// <param name="IsStatus">True when the high bit was set: a status frame.</param>
public readonly record struct FrameHeader(uint PayloadLength, bool IsStatus)
{
    /// <summary>Bytes in a frame header.</summary>
    public const int Size = 4;

    /// <summary>The high bit of a header: set only on server-to-client status frames.</summary>
    public const uint StatusFlag = 0x8000_0000;

    /// <summary>The largest payload a header can announce: 2^31 - 1.</summary>
    public const int MaxPayloadLength = int.MaxValue;

    /// <summary>The header as its 32-bit wire value.</summary>
    public uint Value => IsStatus ? PayloadLength | StatusFlag : PayloadLength;

    /// <summary>The header of a 32-bit wire value.</summary>
    public static FrameHeader FromValue(uint value) => new(value & ~StatusFlag, (value & StatusFlag) != 0);

    /// <summary>Reads the header at the start of <paramref name="source"/>; false while fewer than four bytes have arrived.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out FrameHeader header)
    {
        header = source.Length >= Size ? FromValue(BinaryPrimitives.ReadUInt32BigEndian(source)) : default;
        return source.Length >= Size;
    }

    /// <summary>Writes the header into the first four bytes of <paramref name="destination"/>.</summary>
    public void WriteTo(Span<byte> destination) => BinaryPrimitives.WriteUInt32BigEndian(destination, Value);
}
