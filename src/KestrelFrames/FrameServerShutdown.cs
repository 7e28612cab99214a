namespace KestrelFrames;

/// <summary>How the frame server's last shutdown ended.</summary>
public enum FrameServerShutdown
{
    /// <summary>Every frame connection closed before the host's shutdown timeout: nothing was cut off.</summary>
    Drained,

    /// <summary>
    /// The host's shutdown timeout ran out first: the frame connections still open were aborted and their running
    /// requests cancelled (logged as "Shutdown timeout reached").
    /// </summary>
    TimedOut,
}
