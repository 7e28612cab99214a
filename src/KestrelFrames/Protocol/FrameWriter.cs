using System.Buffers;
using System.Buffers.Binary;

namespace KestrelFrames.Protocol;

/// <summary>Writes server-to-client frames into any <see cref="IBufferWriter{T}"/>, such as a transport's PipeWriter.</summary>
public static class FrameWriter
{
    /// <summary>Writes a frame header announcing <paramref name="payloadLength"/> bytes.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, int payloadLength)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(FrameHeader.Size), (uint)payloadLength);
        output.Advance(FrameHeader.Size);
    }

    /// <summary>Writes a whole frame: header, then <paramref name="payload"/>.</summary>
    public static void WriteFrame(IBufferWriter<byte> output, ReadOnlySpan<byte> payload)
    {
        WriteHeader(output, payload.Length);
        output.Write(payload);
    }

    /// <summary>Writes a status frame: header with the high bit set, the code, then the UTF-8 reason. Returns its length in bytes.</summary>
    public static int WriteStatus(IBufferWriter<byte> output, FrameStatus status, ReadOnlySpan<byte> utf8Reason)
    {
        ArgumentNullException.ThrowIfNull(output);
        int length = 1 + utf8Reason.Length;
        Span<byte> span = output.GetSpan(FrameHeader.Size + length);
        BinaryPrimitives.WriteUInt32BigEndian(span, FrameHeader.StatusFlag | (uint)length);
        span[FrameHeader.Size] = (byte)status;
        utf8Reason.CopyTo(span[(FrameHeader.Size + 1)..]);
        output.Advance(FrameHeader.Size + length);
        return FrameHeader.Size + length;
    }

    /// <summary>Writes a status frame with the server's standard reason for <paramref name="status"/>. Returns its length in bytes.</summary>
    public static int WriteStatus(IBufferWriter<byte> output, FrameStatus status) =>
        WriteStatus(output, status, StatusReason.For(status));
}
