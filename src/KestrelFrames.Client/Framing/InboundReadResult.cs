namespace KestrelFrames.Client.Framing;

/// <summary>What <see cref="FrameWire.TryRead"/> found at the start of the buffer.</summary>
internal enum InboundReadResult
{
    /// <summary>A whole frame was read and consumed.</summary>
    Frame,

    /// <summary>Only part of a header or payload has arrived; read more.</summary>
    Incomplete,

    /// <summary>The header announces more than the client's maximum frame size; nothing was consumed.</summary>
    TooLarge,
}
