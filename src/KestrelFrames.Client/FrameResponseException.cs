namespace KestrelFrames.Client;

/// <summary>Thrown by <see cref="FrameResponse.EnsureOk"/> when the server answered with a status instead of a payload.</summary>
public sealed class FrameResponseException : Exception
{
    /// <summary>Creates the exception for a response with status <see cref="FrameResponseStatus.HandlerError"/>.</summary>
    public FrameResponseException()
        : this(FrameResponseStatus.HandlerError)
    {
    }

    /// <summary>Creates the exception with a message of your own.</summary>
    public FrameResponseException(string message)
        : base(message)
    {
        Status = FrameResponseStatus.HandlerError;
    }

    /// <summary>Creates the exception with a message of your own and the exception that caused it.</summary>
    public FrameResponseException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Status = FrameResponseStatus.HandlerError;
    }

    /// <summary>Creates the exception for a response with <paramref name="status"/>.</summary>
    public FrameResponseException(FrameResponseStatus status)
        : base(DescribeStatus(status))
    {
        Status = status;
    }

    /// <summary>The status the server answered with.</summary>
    public FrameResponseStatus Status { get; }

    private static string DescribeStatus(FrameResponseStatus status) => status switch
    {
        FrameResponseStatus.Busy => "The server was busy and did not process the request; it is safe to retry later.",
        FrameResponseStatus.HandlerError => "The server processed the request and its handler failed.",
        _ => $"The server answered with status 0x{(byte)status:x2}.",
    };
}
