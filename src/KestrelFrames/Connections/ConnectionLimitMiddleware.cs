using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KestrelFrames.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Connections;

/// <summary>
/// First stop of every frame connection: applies TCP keep-alive, the client's connection rate and the connection
/// limits. A connection over one is answered ConnectionLimit and closed without reaching the worker pool. Kestrel's
/// own MaxConcurrentConnections would close it silently, and would count the HTTP endpoint too.
/// </summary>
internal sealed partial class ConnectionLimitMiddleware(ConnectionDelegate next, FrameServices services, ConnectionLimiter limiter, ClientRateLimiter rateLimiter)
{
    // Not async: with the rate limits off (the default) a connection costs no more than before, one state machine.
    public Task OnConnectionAsync(ConnectionContext connection)
    {
        ApplyKeepAlive(connection);
        IPAddress? address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        ClientRateLimits limits = rateLimiter.Limits;
        return limits.IsEnabled && address is not null
            ? RunRateLimitedAsync(connection, address, limits)
            : RunCountedAsync(connection, address);
    }

    /// <summary>
    /// Holds the client's rate-limit partition for the connection's whole life, refusals included, so the partition
    /// the read loop takes request tokens from is never dropped under it. The connection rate is checked before the
    /// counts: it counts attempts, so a client retrying against a full MaxConnectionsPerIp is slowed by it too.
    /// </summary>
    private async Task RunRateLimitedAsync(ConnectionContext connection, IPAddress address, ClientRateLimits limits)
    {
        ClientRatePartition partition = rateLimiter.Hold(address);
        try
        {
            if (limits.LimitsConnections && !partition.TryAcquireConnection(limits, services.Time.GetTimestamp()))
            {
                await RejectAsync(connection, ConnectionRejection.ConnectionRate);
                return;
            }

            if (limits.LimitsRequests)
            {
                connection.Features.Set(partition);
            }

            await RunCountedAsync(connection, address);
        }
        finally
        {
            partition.Release();
        }
    }

    private async Task RunCountedAsync(ConnectionContext connection, IPAddress? address)
    {
        ConnectionLimitResult result = limiter.TryAcquire(address);
        if (result != ConnectionLimitResult.Acquired)
        {
            await RejectAsync(connection, result == ConnectionLimitResult.PerIpLimit ? ConnectionRejection.PerIpLimit : ConnectionRejection.ConnectionLimit);
            return;
        }

        // Released whatever ends the connection: a handler fault, an abort, a timeout or a TLS failure.
        try
        {
            await next(connection);
        }
        finally
        {
            limiter.Release(address);
        }
    }

    private async Task RejectAsync(ConnectionContext connection, ConnectionRejection reason)
    {
        services.Metrics.ConnectionRejected(reason);
        bool rate = reason == ConnectionRejection.ConnectionRate;
        if ((rate ? services.RateLimits : services.LimitRejections).TryEnter())
        {
            LogRejected(services.Logger, connection.ConnectionId, connection.RemoteEndPoint, reason switch
            {
                ConnectionRejection.ConnectionRate => "connection rate limit",
                ConnectionRejection.PerIpLimit => "per-IP limit",
                _ => "connection limit",
            });
        }

        PipeWriter output = connection.Transport.Output;
        try
        {
            int written = rate
                ? FrameCodec.WriteStatus(output, FrameStatus.ConnectionLimit, StatusReason.ConnectionRate)
                : StatusReason.WriteStatus(output, FrameStatus.ConnectionLimit);
            if (!(await output.FlushAsync()).IsCompleted)
            {
                await GracefulClose.LingerRefusedAsync(connection, written, services);
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException)
        {
            // The client left first; nothing to tell it.
        }
    }

    private void ApplyKeepAlive(ConnectionContext connection)
    {
        TimeSpan idle = services.Options.KeepAlive;
        if (connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            return;
        }

        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, idle > TimeSpan.Zero);
        if (idle > TimeSpan.Zero)
        {
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, Math.Max(1, (int)idle.TotalSeconds));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame connection {ConnectionId} from {RemoteEndPoint} refused: {Limit} reached.")]
    private static partial void LogRejected(ILogger logger, string connectionId, EndPoint? remoteEndPoint, string limit);
}
