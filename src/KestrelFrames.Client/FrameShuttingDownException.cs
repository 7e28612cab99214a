namespace KestrelFrames.Client;

/// <summary>
/// The server is shutting down (status <see cref="FrameStatus.ShuttingDown"/>) and did <b>not</b> process this
/// request: every request it processed was answered first. Resending it, normally on a new connection that lands on
/// another instance, is safe. With <see cref="FrameClientOptions.Reconnect"/> set the client does that itself, and
/// this is thrown only when it could not reconnect.
/// </summary>
public sealed class FrameShuttingDownException : FrameConnectionClosedException
{
    /// <summary>Creates the exception with the default message.</summary>
    public FrameShuttingDownException()
        : this("The server is shutting down and did not process the request; it is safe to resend it.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public FrameShuttingDownException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates the exception with a message and its cause (such as the last failed reconnect).</summary>
    public FrameShuttingDownException(string message, Exception? innerException)
        : base(message, FrameStatus.ShuttingDown, wasProcessed: false, innerException)
    {
    }
}
