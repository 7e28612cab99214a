namespace KestrelFrames.Connections;

/// <summary>
/// One timer for all connections, ticking once a second on the injected TimeProvider (Kestrel's Heartbeat): a
/// timeout costs no timer per frame or per connection, and tests drive it with a fake clock.
/// </summary>
internal sealed class FrameHeartbeat : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly ConnectionManager _connections;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;

    public FrameHeartbeat(ConnectionManager connections, TimeProvider time)
    {
        _connections = connections;
        _time = time;
        _timer = time.CreateTimer(static state => ((FrameHeartbeat)state!).Tick(), this, Interval, Interval);
    }

    public void Dispose() => _timer.Dispose();

    private void Tick() => _connections.OnHeartbeat(_time.GetTimestamp());
}
