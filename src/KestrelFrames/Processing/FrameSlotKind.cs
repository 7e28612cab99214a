namespace KestrelFrames.Processing;

/// <summary>What an answer slot carries.</summary>
internal enum FrameSlotKind
{
    /// <summary>A request, answered by the handler or with Busy/HandlerError.</summary>
    Request,

    /// <summary>A heartbeat, answered with an empty frame without using the worker pool.</summary>
    Heartbeat,

    /// <summary>The connection's final status frame (FrameTooLarge, ShuttingDown, ...).</summary>
    Status,
}
