namespace KestrelFrames.Client;

/// <summary>
/// How the server answered one request. The values are the protocol's codes, so a code this version of the client
/// does not know (below 0x10: the connection stays open) arrives as its numeric value: treat it as a failure.
/// </summary>
public enum FrameResponseStatus : byte
{
    /// <summary>The handler answered; <see cref="FrameResponse.Payload"/> holds its answer (possibly empty).</summary>
    Ok = 0x00,

    /// <summary>The server was overloaded and did <b>not</b> process the request: safe to retry, with backoff.</summary>
    Busy = 0x01,

    /// <summary>
    /// The server processed the request and its handler failed; it may have had side effects. Retry only if the
    /// operation is idempotent. The client never retries it by itself.
    /// </summary>
    HandlerError = 0x02,
}
