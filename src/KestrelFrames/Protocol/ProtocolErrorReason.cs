namespace KestrelFrames.Protocol;

/// <summary>Why a connection was closed for the client's fault; the <c>reason</c> label of frames_protocol_errors_total.</summary>
internal enum ProtocolErrorReason
{
    FrameTooLarge,
    ProtocolError,
    FrameTimeout,
    IdleTimeout,
    WriteTimeout,
}
