using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace KestrelFrames.Connections;

/// <summary>
/// Around Kestrel's TLS middleware on the Frames endpoint. Kestrel logs a failed handshake at Debug only, so a client
/// with an untrusted certificate, a plaintext client on the TLS port or a handshake that timed out left no trace at
/// the default level. Kestrel's TLS calls the rest of the pipeline only once the handshake has succeeded, so a
/// connection that comes back here without having passed <see cref="MarkCompleted"/> failed it.
/// </summary>
internal sealed partial class TlsHandshakeLogMiddleware(ConnectionDelegate next, FrameServices services)
{
    /// <summary>Goes right after TLS: the handshake is done when a connection gets here.</summary>
    public static ConnectionDelegate MarkCompleted(ConnectionDelegate next) => connection =>
    {
        if (connection.Features.Get<TlsHandshakeOutcome>() is { } outcome)
        {
            outcome.Completed = true;
        }

        return next(connection);
    };

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        var outcome = new TlsHandshakeOutcome();
        connection.Features.Set(outcome);
        long started = services.Time.GetTimestamp();
        await next(connection);
        if (!outcome.Completed && services.TlsHandshakeFailures.TryEnter())
        {
            // Kestrel does not say why. The time taken, beside the timeout, tells a handshake that ran out of time
            // from one refused at once (a plaintext client, an untrusted certificate, a protocol mismatch).
            TimeSpan elapsed = services.Time.GetElapsedTime(started);
            LogHandshakeFailed(services.Logger, connection.ConnectionId, connection.RemoteEndPoint, elapsed.TotalMilliseconds, services.Options.TlsHandshakeTimeout);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frame connection {ConnectionId} from {RemoteEndPoint} closed: TLS handshake failed after {ElapsedMs:F0} ms (TlsHandshakeTimeout {TlsHandshakeTimeout}).")]
    private static partial void LogHandshakeFailed(ILogger logger, string connectionId, EndPoint? remoteEndPoint, double elapsedMs, TimeSpan tlsHandshakeTimeout);
}
