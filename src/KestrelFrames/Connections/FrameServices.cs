using KestrelFrames.Hosting;
using KestrelFrames.Observability;
using KestrelFrames.Processing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Connections;

/// <summary>What every frame connection shares, resolved once so that accepting a connection is one allocation less.</summary>
internal sealed class FrameServices(
    IOptions<FrameServerOptions> options,
    WorkerPool pool,
    FrameMetrics metrics,
    FrameServerState state,
    BufferBudget budget,
    FrameHeartbeat heartbeat,
    TimeProvider time,
    ILogger<FrameConnection> logger)
{
    public FrameServerOptions Options { get; } = options.Value;

    public WorkerPool Pool { get; } = pool;

    public FrameMetrics Metrics { get; } = metrics;

    public FrameServerState State { get; } = state;

    public BufferBudget Budget { get; } = budget;

    public FrameHeartbeat Heartbeat { get; } = heartbeat;

    public LogThrottle LogThrottle { get; } = new(time);

    public TimeProvider Time { get; } = time;

    public ILogger Logger { get; } = logger;
}
