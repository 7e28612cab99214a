using System.Buffers;

namespace KestrelFrames.Protocol;

/// <summary>The short UTF-8 reasons the server puts in its status frames; literals, so sending one allocates nothing.</summary>
internal static class StatusReason
{
    /// <summary>The standard reason text for <paramref name="status"/>.</summary>
    public static ReadOnlySpan<byte> For(FrameStatus status) => status switch
    {
        FrameStatus.Busy => "server busy, retry"u8,
        FrameStatus.HandlerError => "handler failed"u8,
        FrameStatus.FrameTooLarge => "frame too large"u8,
        FrameStatus.ProtocolError => "protocol error: high bit set in length"u8,
        FrameStatus.FrameTimeout => "frame not completed in time"u8,
        FrameStatus.IdleTimeout => "idle timeout"u8,
        FrameStatus.ConnectionLimit => "connection limit reached"u8,
        FrameStatus.ShuttingDown => "server shutting down"u8,
        _ => "unknown"u8,
    };

    /// <summary>Busy's reason when the client is over Frames:RateLimit:RequestsPerSecond rather than the server overloaded.</summary>
    public static ReadOnlySpan<byte> RateLimit => "rate limit"u8;

    /// <summary>ConnectionLimit's reason when the client opened more than Frames:RateLimit:ConnectionsPerSecond.</summary>
    public static ReadOnlySpan<byte> ConnectionRate => "connection rate"u8;

    /// <summary>Writes a status frame with the standard reason for <paramref name="status"/>. Returns its length in bytes.</summary>
    public static int WriteStatus(IBufferWriter<byte> output, FrameStatus status) => FrameCodec.WriteStatus(output, status, For(status));
}
