namespace KestrelFrames.Soak;

/// <summary>The server sent something the protocol rules out at that point (a frame cut short, bytes after the close).</summary>
internal sealed class ProtocolViolationException : Exception
{
    public ProtocolViolationException()
    {
    }

    public ProtocolViolationException(string message)
        : base(message)
    {
    }

    public ProtocolViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
