namespace KestrelFrames;

/// <summary>
/// The code in byte 0 of a status frame's payload. Codes below 0x10 answer one request and keep the connection
/// open; codes from 0x10 up are the last frame the server sends before it closes
/// (<see cref="FrameStatusExtensions.IsConnectionEnding"/>).
/// </summary>
public enum FrameStatus : byte
{
    /// <summary>The request was not processed because the server is overloaded; safe to retry.</summary>
    Busy = 0x01,

    /// <summary>The handler failed on this request; the connection stays open.</summary>
    HandlerError = 0x02,

    /// <summary>A header announced more than the server's maximum frame size. Do not resend the same bytes.</summary>
    FrameTooLarge = 0x10,

    /// <summary>A client header had its high bit set, which only server-to-client status frames may use.</summary>
    ProtocolError = 0x11,

    /// <summary>A frame did not arrive whole within the server's read timeout.</summary>
    FrameTimeout = 0x12,

    /// <summary>The connection sent nothing and had nothing in flight for the server's idle timeout.</summary>
    IdleTimeout = 0x13,

    /// <summary>The server (or this client's address) is at its connection limit; nothing was processed.</summary>
    ConnectionLimit = 0x20,

    /// <summary>The server is draining: every request before this frame was answered; resend the rest elsewhere.</summary>
    ShuttingDown = 0x21,
}
