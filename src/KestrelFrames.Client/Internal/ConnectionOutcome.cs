namespace KestrelFrames.Client.Internal;

/// <summary>How one connection ended, and so what is known about the requests it left unanswered.</summary>
internal sealed class ConnectionOutcome
{
    private ConnectionOutcome(ConnectionEnd end, FrameStatus? status, string message, Exception? error)
    {
        End = end;
        Status = status;
        Message = message;
        Error = error;
    }

    public ConnectionEnd End { get; }

    /// <summary>The server's closing status, for <see cref="ConnectionEnd.ClosedByServer"/>.</summary>
    public FrameStatus? Status { get; }

    public string Message { get; }

    public Exception? Error { get; }

    /// <summary>
    /// True when the server may have processed requests it did not answer: it closed without a status, or the stream
    /// could not be trusted. After a closing status the server has answered everything it processed.
    /// </summary>
    public bool MayHaveProcessedUnanswered => End is ConnectionEnd.Dropped or ConnectionEnd.ProtocolViolation or ConnectionEnd.AnswerTooLarge or ConnectionEnd.Disposed;

    /// <summary>
    /// True when the first unanswered request caused the close (FrameTooLarge, ProtocolError, or an answer above the
    /// client's MaxFrameSize): it is failed, never resent.
    /// </summary>
    public bool HasCulprit => End == ConnectionEnd.AnswerTooLarge ||
        (End == ConnectionEnd.ClosedByServer && Status is FrameStatus.FrameTooLarge or FrameStatus.ProtocolError);

    public static ConnectionOutcome ClosedByServer(FrameStatus status) =>
        new(ConnectionEnd.ClosedByServer, status, Describe(status), error: null);

    public static ConnectionOutcome Dropped(Exception? error) =>
        new(ConnectionEnd.Dropped, status: null, error is null ? "The server closed the connection without a status." : $"The connection dropped: {error.Message}", error);

    public static ConnectionOutcome ProtocolViolation(string message) =>
        new(ConnectionEnd.ProtocolViolation, status: null, message, error: null);

    public static ConnectionOutcome AnswerTooLarge(uint length, int maxFrameSize) =>
        new(ConnectionEnd.AnswerTooLarge, status: null, $"The server announced an answer of {length} bytes, above the client's MaxFrameSize of {maxFrameSize}; the connection was dropped.", error: null);

    public static ConnectionOutcome Disposed() =>
        new(ConnectionEnd.Disposed, status: null, "The FrameClient was disposed before the request was answered.", error: null);

    /// <summary>
    /// The exception for a request this connection left unanswered; <paramref name="reconnectError"/> is the last
    /// failed attempt when the client could not reconnect.
    /// </summary>
    public FrameConnectionClosedException CreateException(bool? wasProcessed, Exception? reconnectError = null)
    {
        string message = reconnectError is null ? Message : $"{Message} Reconnecting failed: {reconnectError.Message}";
        Exception? inner = reconnectError ?? Error;
        return Status == FrameStatus.ShuttingDown
            ? new FrameShuttingDownException(message, inner)
            : new FrameConnectionClosedException(message, Status, End == ConnectionEnd.ClosedByServer ? false : wasProcessed, inner);
    }

    /// <summary>The exception for the request that caused the close (<see cref="HasCulprit"/>).</summary>
    public FrameConnectionClosedException CreateCulpritException() => End == ConnectionEnd.AnswerTooLarge
        ? new FrameConnectionClosedException(Message, statusCode: null, wasProcessed: true)
        : new FrameConnectionClosedException(
            Status == FrameStatus.FrameTooLarge
                ? "The server refused the request as larger than its MaxFrameSize (FrameTooLarge) and closed the connection. Do not resend it as is."
                : "The server found a protocol error in the request (ProtocolError) and closed the connection.",
            Status,
            wasProcessed: false);

    private static string Describe(FrameStatus status) => status switch
    {
        FrameStatus.ShuttingDown => "The server is shutting down and did not process the request; it is safe to resend it.",
        FrameStatus.ConnectionLimit => "The server refused the connection: it is at its connection limit (ConnectionLimit). Nothing was processed.",
        FrameStatus.IdleTimeout => "The server closed the idle connection (IdleTimeout). The request was not processed.",
        FrameStatus.FrameTimeout => "The server closed the connection because a frame did not arrive in time (FrameTimeout). The request was not processed.",
        FrameStatus.FrameTooLarge => "The server closed the connection after a request larger than its MaxFrameSize (FrameTooLarge). This request was not processed.",
        FrameStatus.ProtocolError => "The server closed the connection after a protocol error (ProtocolError). This request was not processed.",
        _ => $"The server closed the connection with status 0x{(byte)status:x2}. The request was not processed.",
    };
}
