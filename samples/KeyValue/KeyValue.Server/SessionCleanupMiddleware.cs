using Microsoft.AspNetCore.Connections;

namespace KeyValue.Server;

/// <summary>
/// Kestrel connection middleware, on the Frames endpoint, that ends a connection's <see cref="KeyValueSession"/> when
/// the connection ends.
/// A workaround: KestrelFrames tells a handler nothing when a connection closes (see <see cref="KeyValueSessions"/>).
/// </summary>
/// <remarks>
/// It wraps the whole connection, KestrelFrames' handling included, so when <c>next</c> returns, every request of
/// the connection has been answered or abandoned and no handler runs for it any more: the session cannot come back.
/// </remarks>
public sealed class SessionCleanupMiddleware(ConnectionDelegate next, KeyValueSessions sessions)
{
    /// <summary>Runs the rest of the connection's pipeline, then ends its session.</summary>
    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        try
        {
            await next(connection);
        }
        finally
        {
            // A connection that sent no request has no session: End does nothing.
            sessions.End(connection.ConnectionId);
        }
    }
}
