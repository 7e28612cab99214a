using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using KestrelFrames.Connections;
using KestrelFrames.Observability;
using KestrelFrames.Processing;
using KestrelFrames.Transport;
using Microsoft.AspNetCore.Server.Kestrel.Https;
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
    LiveFrameOptions liveOptions,
    IOptions<SocketTransportOptions> socketOptions,
    IOptions<HostOptions> hostOptions,
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
        // What runs, not what was asked for: the epoll transport has loops only once it bound the endpoint.
        bool onEpoll = epoll.LoopCount > 0;
        metrics.TransportInfo.WithLabels(onEpoll ? "epoll" : "sockets").Set(1);
        LogStartup(onEpoll);

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
        TimeSpan delay = liveOptions.Current.DrainDelay;
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

    /// <summary>Everything an operator set, as the server runs it, so a log alone tells how an instance was configured.</summary>
    private void LogStartup(bool onEpoll)
    {
        // Computed up front, not in the calls: the analyzer does not see that the whole method runs at start, once.
        string version = Version();
        LogVersion(logger, version, RuntimeInformation.FrameworkDescription, Environment.ProcessorCount);
        foreach (var endPoint in endpoints.EndPoints)
        {
            LogListening(logger, endPoint);
        }

        FrameServerOptions o = options.Value;
        SocketTransportOptions socket = socketOptions.Value;
        string maxRead = Limit(socket.MaxReadBufferSize);
        string maxWrite = Limit(socket.MaxWriteBufferSize);
        LogTransport(logger, onEpoll ? "epoll" : "sockets", onEpoll ? epoll.LoopCount : socket.IOQueueCount, o.TransportBlockSize, maxRead, maxWrite);
        LogLimits(logger, o.MaxConnections, o.MaxConnectionsPerIp, o.MaxFrameSize, o.MaxInFlightPerConnection, o.Workers, o.QueueCapacity, o.OverloadMode, o.MaxBufferedBytes);
        LogTimeouts(logger, o.ReadTimeout, o.IdleTimeout, o.WriteTimeout, o.LingerTimeout, o.KeepAlive, o.MaxConnectionAge, o.DrainDelay, hostOptions.Value.ShutdownTimeout);
        IReadOnlyList<HttpsConnectionAdapterOptions> tls = endpoints.Tls;
        if (tls.Count == 0)
        {
            LogTlsOff(logger);
        }

        foreach (HttpsConnectionAdapterOptions https in tls)
        {
            // The expiry tells an operator when the next rotation is due (a changed file rebinds, logged then too).
            X509Certificate2? certificate = https.ServerCertificate;
            DateTime? notAfter = certificate?.NotAfter.ToUniversalTime();
            LogTls(logger, certificate?.Subject ?? "chosen per connection", certificate?.Thumbprint ?? "-", notAfter, https.ClientCertificateMode, o.TlsHandshakeTimeout);
        }

        if (o.ProxyProtocol.Mode == ProxyProtocolMode.Off)
        {
            LogProxyOff(logger);
        }
        else
        {
            string trusted = string.Join(' ', o.ProxyProtocol.TrustedProxies);
            LogProxy(logger, o.ProxyProtocol.Mode, trusted, o.ProxyProtocol.HeaderTimeout);
        }
    }

    // The informational version carries the commit when the build had one (SourceLink): "1.0.0+47be467...".
    private static string Version() =>
        typeof(FrameServerLifecycle).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    // Kestrel's reading of these: null or 0 is no limit at all.
    private static string Limit(long? bytes) => bytes is null or 0 ? "unlimited" : bytes.Value.ToString(CultureInfo.InvariantCulture);

    private void OnShutdownTimeout()
    {
        state.SetShutdownTimedOut();
        int unanswered = connections.AbortAll();
        LogShutdownTimeout(logger, unanswered);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames endpoint listening on {EndPoint}.")]
    private static partial void LogListening(ILogger logger, System.Net.EndPoint endPoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "KestrelFrames {Version} on {Runtime}, {ProcessorCount} CPUs.")]
    private static partial void LogVersion(ILogger logger, string version, string runtime, int processorCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames transport: {Transport}, {Loops} I/O loops, TransportBlockSize={TransportBlockSize}, MaxReadBufferSize={MaxReadBufferSize}, MaxWriteBufferSize={MaxWriteBufferSize}.")]
    private static partial void LogTransport(ILogger logger, string transport, int loops, int transportBlockSize, string maxReadBufferSize, string maxWriteBufferSize);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames TLS: off.")]
    private static partial void LogTlsOff(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames TLS: certificate {Subject} ({Thumbprint}), valid until {NotAfter:u}, ClientCertificateMode={ClientCertificateMode}, TlsHandshakeTimeout={TlsHandshakeTimeout}.")]
    private static partial void LogTls(ILogger logger, string subject, string thumbprint, DateTime? notAfter, ClientCertificateMode clientCertificateMode, TimeSpan tlsHandshakeTimeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames PROXY protocol: Off.")]
    private static partial void LogProxyOff(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frames PROXY protocol: {Mode}, TrustedProxies={TrustedProxies}, HeaderTimeout={HeaderTimeout}.")]
    private static partial void LogProxy(ILogger logger, ProxyProtocolMode mode, string trustedProxies, TimeSpan headerTimeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frame limits: MaxConnections={MaxConnections}, MaxConnectionsPerIp={MaxConnectionsPerIp}, MaxFrameSize={MaxFrameSize}, MaxInFlightPerConnection={MaxInFlight}, Workers={Workers}, QueueCapacity={QueueCapacity}, OverloadMode={OverloadMode}, MaxBufferedBytes={MaxBufferedBytes}.")]
    private static partial void LogLimits(ILogger logger, int maxConnections, int maxConnectionsPerIp, int maxFrameSize, int maxInFlight, int workers, int queueCapacity, OverloadMode overloadMode, long maxBufferedBytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Frame timeouts: ReadTimeout={ReadTimeout}, IdleTimeout={IdleTimeout}, WriteTimeout={WriteTimeout}, LingerTimeout={LingerTimeout}, KeepAlive={KeepAlive}, MaxConnectionAge={MaxConnectionAge}, DrainDelay={DrainDelay}, ShutdownTimeout={ShutdownTimeout}.")]
    private static partial void LogTimeouts(ILogger logger, TimeSpan readTimeout, TimeSpan idleTimeout, TimeSpan writeTimeout, TimeSpan lingerTimeout, TimeSpan keepAlive, TimeSpan maxConnectionAge, TimeSpan drainDelay, TimeSpan shutdownTimeout);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: readiness is 503; serving for {DrainDelaySeconds} s more before draining.")]
    private static partial void LogDrainDelay(ILogger logger, double drainDelaySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drained {Connections} frame connections and {Requests} requests in {ElapsedMs:F0} ms; {Answered} requests answered since start.")]
    private static partial void LogDrained(ILogger logger, int connections, long requests, double elapsedMs, long answered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain cut short by the shutdown timeout after {ElapsedMs:F0} ms: {Connections} frame connections closed and {Requests} requests answered while draining; {Answered} requests answered since start.")]
    private static partial void LogDrainCutShort(ILogger logger, double elapsedMs, int connections, long requests, long answered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown timeout reached: aborted the remaining frame connections with {Unanswered} requests unanswered.")]
    private static partial void LogShutdownTimeout(ILogger logger, int unanswered);
}
