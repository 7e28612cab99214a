namespace KestrelFrames.Protocol;

/// <summary>Constants of the wire format: a 4-byte big-endian length, then that many payload bytes.</summary>
public static class FrameHeader
{
    /// <summary>Bytes in a frame header.</summary>
    public const int Size = 4;

    /// <summary>The high bit of a header: set only on server-to-client status frames.</summary>
    public const uint StatusFlag = 0x8000_0000;

    /// <summary>The largest payload a header can announce: 2^31 - 1.</summary>
    public const int MaxPayloadLength = int.MaxValue;
}
