namespace KestrelFrames.Bench;

/// <summary>What went wrong on a connection, other than a status frame.</summary>
internal enum TransportError
{
    /// <summary>The server closed the connection before the end of the run, without a status frame.</summary>
    ConnectionClosed,

    /// <summary>A socket or TLS error while reading or writing (reset, abort).</summary>
    ConnectionError,

    /// <summary>An answer's length header was over <c>--max-frame</c>.</summary>
    ResponseTooLarge,

    /// <summary>An answer arrived with no request outstanding.</summary>
    UnexpectedResponse,

    /// <summary>A status frame without its code byte.</summary>
    MalformedStatus,
}
