namespace KestrelFrames.Client;

/// <summary>
/// The connection ended before the request was answered: the server closed it with a status (see
/// <see cref="StatusCode"/>), the connection dropped, or the client was disposed. <see cref="WasProcessed"/> says
/// whether the request may be resent safely.
/// </summary>
public class FrameConnectionClosedException : IOException
{
    /// <summary>Creates the exception for a connection that dropped, with nothing known about the request.</summary>
    public FrameConnectionClosedException()
        : this("The frame connection was closed.")
    {
    }

    /// <summary>Creates the exception with a message, for a connection that dropped.</summary>
    public FrameConnectionClosedException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates the exception with a message and its cause, for a connection that dropped.</summary>
    public FrameConnectionClosedException(string message, Exception? innerException)
        : this(message, statusCode: null, wasProcessed: null, innerException)
    {
    }

    /// <summary>Creates the exception with everything known about how the connection ended.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="statusCode">The server's closing status, or null when it closed without one.</param>
    /// <param name="wasProcessed">Whether the server processed the request: false (not processed), true, or null (unknown).</param>
    /// <param name="innerException">The cause, if any.</param>
    public FrameConnectionClosedException(string message, FrameStatus? statusCode, bool? wasProcessed, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        WasProcessed = wasProcessed;
    }

    /// <summary>
    /// The status the server closed the connection with (a code from 0x10 up, such as
    /// <see cref="FrameStatus.ShuttingDown"/> or <see cref="FrameStatus.ConnectionLimit"/>), or null when the
    /// connection ended without one (it dropped, the answer was too large, or the client was disposed).
    /// </summary>
    public FrameStatus? StatusCode { get; }

    /// <summary>
    /// Whether the server processed this request. <c>false</c>: it did not (the server closed with a status after
    /// answering everything it processed, or the request was never sent), so resending it is safe. <c>true</c>: it did
    /// (its answer could not be delivered). <c>null</c>: unknown, as after a dropped connection; resend only what is
    /// safe to repeat.
    /// </summary>
    public bool? WasProcessed { get; }
}
