using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KestrelFrames.Protocol;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Connections;

/// <summary>
/// First stop of every frame connection: applies TCP keep-alive and the connection limits. A connection over a
/// limit is answered ConnectionLimit and closed without reaching the worker pool. Kestrel's own
/// MaxConcurrentConnections would close it silently, and would count the HTTP endpoint too.
/// </summary>
internal sealed partial class ConnectionLimitMiddleware(ConnectionDelegate next, FrameServices services, ConnectionLimiter limiter)
{
    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        ApplyKeepAlive(connection);
        IPAddress? address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        ConnectionLimitResult result = limiter.TryAcquire(address);
        if (result != ConnectionLimitResult.Acquired)
        {
            await RejectAsync(connection, result == ConnectionLimitResult.PerIpLimit);
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

    private async Task RejectAsync(ConnectionContext connection, bool perIp)
    {
        services.Metrics.ConnectionRejected(perIp);
        if (services.LimitRejections.TryEnter())
        {
            LogRejected(services.Logger, connection.ConnectionId, connection.RemoteEndPoint, perIp ? "per-IP limit" : "connection limit");
        }

        PipeWriter output = connection.Transport.Output;
        try
        {
            int written = StatusReason.WriteStatus(output, FrameStatus.ConnectionLimit);
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
