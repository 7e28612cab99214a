namespace KestrelFrames.Client;

/// <summary>
/// The code of a server status frame. Codes below 0x10 answer one request and keep the connection open; codes from
/// 0x10 up are the last frame the server sends before it closes the connection.
/// </summary>
public enum FrameStatusCode : byte
{
    /// <summary>The request was not processed because the server is overloaded.</summary>
    Busy = 0x01,

    /// <summary>The handler failed on the request; the connection stays open.</summary>
    HandlerError = 0x02,

    /// <summary>A request announced more than the server's maximum frame size. Do not resend the same bytes.</summary>
    FrameTooLarge = 0x10,

    /// <summary>The server read a header with its high bit set: a client bug. Do not resend the same bytes.</summary>
    ProtocolError = 0x11,

    /// <summary>A frame did not arrive whole within the server's read timeout.</summary>
    FrameTimeout = 0x12,

    /// <summary>Nothing was sent and nothing was in flight for the server's idle timeout.</summary>
    IdleTimeout = 0x13,

    /// <summary>The server, or this client's address, is at its connection limit; nothing was processed.</summary>
    ConnectionLimit = 0x20,

    /// <summary>The server is draining: every request it did not answer was not processed; resend those elsewhere.</summary>
    ShuttingDown = 0x21,
}
