namespace KestrelFrames;

/// <summary>The default handler: answers each request with its own payload, byte for byte.</summary>
public sealed class EchoFrameHandler : IFrameHandler
{
    /// <inheritdoc />
    public ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frame);
        frame.RespondWithRequest();
        return ValueTask.CompletedTask;
    }
}
