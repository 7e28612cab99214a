namespace KestrelFrames;

/// <summary>Why a frame connection ended, as <see cref="IFrameConnectionLifecycle.OnClosingAsync"/> is told.</summary>
public enum FrameCloseReason
{
    /// <summary>The client closed its side; every request it sent was answered.</summary>
    ClientClosed,

    /// <summary>The connection broke (a reset, an error) or was dropped: answers may not have reached the client.</summary>
    ConnectionLost,

    /// <summary>The client did not read its answers within <c>Frames:WriteTimeout</c>; the connection was dropped.</summary>
    WriteTimeout,

    /// <summary>The server is draining, or the connection reached <c>Frames:MaxConnectionAge</c>: it ended with ShuttingDown.</summary>
    ShuttingDown,

    /// <summary>Nothing arrived within <c>Frames:IdleTimeout</c>: it ended with IdleTimeout.</summary>
    IdleTimeout,

    /// <summary>A frame took longer than <c>Frames:ReadTimeout</c> to arrive: it ended with FrameTimeout.</summary>
    FrameTimeout,

    /// <summary>A frame's header announced more than <c>Frames:MaxFrameSize</c>: it ended with FrameTooLarge.</summary>
    FrameTooLarge,

    /// <summary>The client sent what the protocol forbids (a status bit in a header): it ended with ProtocolError.</summary>
    ProtocolError,

    /// <summary>The server failed (a bug, logged at Error with the connection id); the connection was dropped.</summary>
    ServerError,

    /// <summary>The application called <see cref="FrameConnectionInfo.RequestClose"/>: it ended with ShuttingDown.</summary>
    ApplicationRequested,
}
