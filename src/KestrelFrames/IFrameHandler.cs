namespace KestrelFrames;

/// <summary>
/// Answers one request frame. Runs on the worker pool; many calls run at once, for different requests and
/// connections, so an implementation must be thread-safe. Register it in DI before <c>AddFrameServer</c> to
/// replace the default echo handler.
/// </summary>
public interface IFrameHandler
{
    /// <summary>
    /// Reads <see cref="FrameContext.Request"/> and writes the answer's payload to <see cref="FrameContext.Response"/>.
    /// Both are valid only until the returned task completes. An exception answers this request with a
    /// HandlerError status frame; the connection stays open.
    /// </summary>
    ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken);
}
