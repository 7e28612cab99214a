namespace KestrelFrames.Client.Internal;

/// <summary>
/// Sends a heartbeat when nothing was sent for the heartbeat interval. One one-shot timer, re-armed for the moment
/// the connection would next have been quiet for the interval: busy connections send no heartbeats at all.
/// </summary>
internal sealed class HeartbeatTimer : IDisposable
{
    private readonly FrameSession _session;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private volatile bool _disposed;

    public HeartbeatTimer(FrameSession session, TimeSpan interval, TimeProvider time)
    {
        _session = session;
        _interval = interval;
        _time = time;

        // Armed only once the field is set: the callback uses it.
        _timer = time.CreateTimer(static state => ((HeartbeatTimer)state!).OnTick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _timer.Change(interval, Timeout.InfiniteTimeSpan);
    }

    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
    }

    private void OnTick()
    {
        if (_disposed)
        {
            return;
        }

        TimeSpan quiet = _time.GetElapsedTime(_session.LastSentTimestamp);
        TimeSpan next = _interval;
        if (quiet >= _interval)
        {
            _session.SendHeartbeat();
        }
        else
        {
            next = _interval - quiet;
        }

        try
        {
            _timer.Change(next, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: the client is closing.
        }
    }
}
