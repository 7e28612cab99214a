

namespace KestrelFrames.Connections;

/// <summary>
/// Server-wide state that connections and health checks read. Shutdown has two steps: <see cref="IsStopping"/>
/// (readiness fails at once; connections are still served normally through the drain delay), then
/// <see cref="IsDraining"/> (connections finish what they hold and are told ShuttingDown).
/// </summary>
internal sealed class FrameServerState
{
    private volatile bool _stopping;
    private volatile bool _draining;
    private volatile bool _listening;
    private volatile bool _shutdownTimedOut;
    private long _drainedRequests;
    private int _drainedConnections;

    public bool IsStopping => _stopping;

    public bool IsDraining => _draining;

    public bool IsListening => _listening;

    /// <summary>The host's shutdown timeout ran out before the frame connections were done, and aborted the rest.</summary>
    public bool ShutdownTimedOut => _shutdownTimedOut;

    public long DrainStartedAt { get; private set; }

    public long DrainedRequests => Interlocked.Read(ref _drainedRequests);

    public int DrainedConnections => Volatile.Read(ref _drainedConnections);

    public void BeginStopping() => _stopping = true;

    public void BeginDraining(long now)
    {
        _stopping = true;
        DrainStartedAt = now;
        _draining = true;
    }

    public void SetListening(bool listening) => _listening = listening;

    public void SetShutdownTimedOut() => _shutdownTimedOut = true;

    /// <summary>A request answered while draining: it counts towards the drain summary.</summary>
    public void RequestDrained() => Interlocked.Increment(ref _drainedRequests);

    /// <summary>A <see cref="FrameConnection"/> that ended while draining.</summary>
    public void ConnectionDrained() => Interlocked.Increment(ref _drainedConnections);
}
