using KestrelFrames.Connections;
using KestrelFrames.Observability;
using KestrelFrames.Transport;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Hosting;

/// <summary>
/// Start-up and shutdown of the frame server around Kestrel's own. Shutdown, in the host's order:
/// ApplicationStopping fails readiness at once; <see cref="StoppingAsync"/> (run for every service before any
/// StopAsync, so before Kestrel's) keeps serving for DrainDelay, then marks the server draining; Kestrel then
/// unbinds and asks each connection to close, and each answers what it holds, then ShuttingDown. If the host's
/// shutdown timeout runs out first, the connections still open are aborted.
/// </summary>
internal sealed partial class FrameServerLifecycle(
    FrameServerState state,
    FrameEndpoints endpoints,
    ConnectionManager connections,
    FrameMetrics metrics,
    IHostApplicationLifetime lifetime,
    IOptions<FrameServerOptions> options,
    IOptions<SocketTransportOptions> socketOptions,
    EpollTransportFactory epoll,
    TimeProvider time,
    ILogger<FrameServerLifecycle> logger) : IHostedLifecycleService
{
    private CancellationTokenRegistration _onStopping;
    private CancellationTokenRegistration _onShutdownTimeout;

    public Task StartingAsync(CancellationToken cancellationToken) => ProcessMetrics.EnsureStartedAsync();

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        foreach (var endPoint in endpoints.EndPoints)
        {
            LogListening(logger, endPoint);
        }

        // What runs, not what was asked for: the epoll transport has loops only once it bound the endpoint.
        bool onEpoll = epoll.LoopCount > 0;
        metrics.TransportInfo.WithLabels(onEpoll ? "epoll" : "sockets").Set(1);
        LogTransport(logger, onEpoll ? "epoll" : "sockets", onEpoll ? epoll.LoopCount : socketOptions.Value.IOQueueCount);

        FrameServerOptions o = options.Value;
        LogLimits(logger, o.MaxConnections, o.MaxConnectionsPerIp, o.MaxFrameSize, o.MaxInFlightPerConnection, o.Workers, o.QueueCapacity, o.OverloadMode, o.MaxBufferedBytes);
        LogTimeouts(logger, o.ReadTimeout, o.IdleTimeout, o.WriteTimeout, o.LingerTimeout, o.KeepAlive, o.MaxConnectionAge, o.DrainDelay);
        state.SetListening(endpoints.EndPoints.Count > 0);

        // Synchronously inside StopApplication(): readiness is 503 before anything else of the shutdown runs.
        _onStopping = lifetime.ApplicationStopping.Register(state.BeginStopping);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        // A host stopped twice (StopApplication, then disposal) drains once.
        if (state.IsDraining)
        {
            return;
        }

        state.BeginStopping();

        // The token is the host's shutdown timeout, shared by every stopping service: when it fires, Kestrel
        // aborts its connections too, but only we can cancel the handlers and count what was lost.
        _onShutdownTimeout = cancellationToken.UnsafeRegister(static s => ((FrameServerLifecycle)s!).OnShutdownTimeout(), this);
        TimeSpan delay = options.Value.DrainDelay;
        if (delay > TimeSpan.Zero)
        {
            // The timer exists before the log line says so: a test's fake clock may advance as soon as it reads it.
            Task delaying = Task.Delay(delay, time, cancellationToken);
            LogDrainDelay(logger, delay.TotalSeconds);
            try
            {
                await delaying;
            }
            catch (OperationCanceledException)
            {
                // The shutdown timeout is shorter than the delay: drain with what is left.
            }
        }

        state.BeginDraining(time.GetTimestamp());
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        state.SetListening(false);
        _onStopping.Dispose();
        _onShutdownTimeout.Dispose();
        if (state.IsDraining)
        {
            TimeSpan elapsed = time.GetElapsedTime(state.DrainStartedAt);
            if (state.ShutdownTimedOut)
            {
                LogDrainCutShort(logger, elapsed.TotalMilliseconds, state.DrainedConnections, state.DrainedRequests, metrics.RequestsAnswered);
            }
            else
            {
                LogDrained(logger, state.DrainedConnections, state.DrainedRequests, elapsed.TotalMilliseconds, metrics.RequestsAnswered);
            }
        }

        return Task.CompletedTask;
    }

    private void OnShutdownTimeout()
    {
        state.SetShutdownTimedOut();
        int unanswered = connections.AbortAll();
        LogShutdownTimeout(logger, unanswered);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames endpoint listening on {EndPoint}.")]
    private static partial void LogListening(ILogger logger, System.Net.EndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames transport: {Transport}, {Loops} I/O loops.")]
    private static partial void LogTransport(ILogger logger, string transport, int loops);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frame limits: MaxConnections={MaxConnections}, MaxConnectionsPerIp={MaxConnectionsPerIp}, MaxFrameSize={MaxFrameSize}, MaxInFlightPerConnection={MaxInFlight}, Workers={Workers}, QueueCapacity={QueueCapacity}, OverloadMode={OverloadMode}, MaxBufferedBytes={MaxBufferedBytes}.")]
    private static partial void LogLimits(ILogger logger, int maxConnections, int maxConnectionsPerIp, int maxFrameSize, int maxInFlight, int workers, int queueCapacity, OverloadMode overloadMode, long maxBufferedBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frame timeouts: ReadTimeout={ReadTimeout}, IdleTimeout={IdleTimeout}, WriteTimeout={WriteTimeout}, LingerTimeout={LingerTimeout}, KeepAlive={KeepAlive}, MaxConnectionAge={MaxConnectionAge}, DrainDelay={DrainDelay}.")]
    private static partial void LogTimeouts(ILogger logger, TimeSpan readTimeout, TimeSpan idleTimeout, TimeSpan writeTimeout, TimeSpan lingerTimeout, TimeSpan keepAlive, TimeSpan maxConnectionAge, TimeSpan drainDelay);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: readiness is 503; serving for {DrainDelaySeconds} s more before draining.")]
    private static partial void LogDrainDelay(ILogger logger, double drainDelaySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained {Connections} frame connections and {Requests} requests in {ElapsedMs:F0} ms; {Answered} requests answered since start.")]
    private static partial void LogDrained(ILogger logger, int connections, long requests, double elapsedMs, long answered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain cut short by the shutdown timeout after {ElapsedMs:F0} ms: {Connections} frame connections closed and {Requests} requests answered while draining; {Answered} requests answered since start.")]
    private static partial void LogDrainCutShort(ILogger logger, double elapsedMs, int connections, long requests, long answered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown timeout reached: aborted the remaining frame connections with {Unanswered} requests unanswered.")]
    private static partial void LogShutdownTimeout(ILogger logger, int unanswered);
}
