namespace KestrelFrames.Hosting;

/// <summary>Server-wide state that connections and health checks read: whether the Frames listener is bound, whether draining began.</summary>
internal sealed class FrameServerState
{
    private volatile bool _draining;
    private volatile bool _listening;

    public bool IsDraining => _draining;

    public bool IsListening => _listening;

    public void BeginDraining() => _draining = true;

    public void SetListening(bool listening) => _listening = listening;
}
