namespace KestrelFrames.Client.Internal;

/// <summary>Why a connection ended.</summary>
internal enum ConnectionEnd
{
    /// <summary>The server sent a closing status (0x10 and up): it answered everything it processed.</summary>
    ClosedByServer,

    /// <summary>End of stream or a transport error without a status: unanswered requests may have run.</summary>
    Dropped,

    /// <summary>The server sent something the protocol does not allow; the client dropped the connection.</summary>
    ProtocolViolation,

    /// <summary>An answer announced more than the client's MaxFrameSize; the client dropped the connection.</summary>
    AnswerTooLarge,

    /// <summary>The client was disposed.</summary>
    Disposed,
}
