using KestrelFrames.Observability;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Connections;

/// <summary>What every frame connection shares, resolved once so that accepting a connection is one allocation less.</summary>
internal sealed class FrameServices(
    LiveFrameOptions options,
    WorkerPool pool,
    FrameMetrics metrics,
    FrameServerState state,
    BufferBudget budget,
    ResourceLedger ledger,
    LargeBufferPool buffers,
    ConnectionManager connections,
    FrameHeartbeat heartbeat,
    TimeProvider time,
    ILogger<FrameConnection> logger,
    IFrameHandler handler,
    IFrameConnectionLifecycle? lifecycle = null) : IDisposable
{
    private int _refusedLingering;

    /// <summary>The options now, reloaded from configuration: read where new work starts, never kept across it.</summary>
    public FrameServerOptions Options => options.Current;

    public WorkerPool Pool { get; } = pool;

    public FrameMetrics Metrics { get; } = metrics;

    public FrameServerState State { get; } = state;

    public BufferBudget Budget { get; } = budget;

    public ResourceLedger Ledger { get; } = ledger;

    /// <summary>Where request and answer buffers come from.</summary>
    public LargeBufferPool Buffers { get; } = buffers;

    public ConnectionManager Connections { get; } = connections;

    /// <summary>Ticks for every connection; resolved with the services so it runs as soon as a connection can exist.</summary>
    public FrameHeartbeat Heartbeat { get; } = heartbeat;

    /// <summary>Bad input from clients: FrameTooLarge, ProtocolError, FrameTimeout.</summary>
    public LogThrottle ClientFaults { get; } = new("client fault", LogLevel.Warning, logger, time);

    /// <summary>Connections refused by MaxConnections or MaxConnectionsPerIp.</summary>
    public LogThrottle LimitRejections { get; } = new("connection limit", LogLevel.Warning, logger, time);

    /// <summary>Connections closed for a missing, malformed or untrusted PROXY protocol header.</summary>
    public LogThrottle ProxyRejections { get; } = new("PROXY protocol rejection", LogLevel.Warning, logger, time);

    /// <summary>
    /// Frames:RateLimit: connections refused for their client's connection rate, and connections whose client went
    /// over its request rate (once per connection). A kind of its own, so a client over its rate cannot hide the
    /// other kinds.
    /// </summary>
    public LogThrottle RateLimits { get; } = new("rate limit", LogLevel.Warning, logger, time);

    /// <summary>Clients aborted for not reading their answers.</summary>
    public LogThrottle WriteTimeouts { get; } = new("write timeout", LogLevel.Warning, logger, time);

    /// <summary>TLS connections that failed or timed out in the handshake.</summary>
    public LogThrottle TlsHandshakeFailures { get; } = new("TLS handshake failure", LogLevel.Warning, logger, time);

    /// <summary>The connection hooks, if the application has any: registered on their own, or the handler's.</summary>
    public IFrameConnectionLifecycle? Lifecycle { get; } = lifecycle ?? handler as IFrameConnectionLifecycle;

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;

    /// <summary>Refused connections lingering now, against a cap of a tenth of MaxConnections (at least one).</summary>
    public bool TryBeginRefusedLinger()
    {
        if (Interlocked.Increment(ref _refusedLingering) <= Math.Max(1, Options.MaxConnections / 10))
        {
            return true;
        }

        Interlocked.Decrement(ref _refusedLingering);
        return false;
    }

    public void EndRefusedLinger() => Interlocked.Decrement(ref _refusedLingering);

    public void Dispose()
    {
        ClientFaults.Dispose();
        LimitRejections.Dispose();
        ProxyRejections.Dispose();
        RateLimits.Dispose();
        WriteTimeouts.Dispose();
        TlsHandshakeFailures.Dispose();
    }
}
