namespace KestrelFrames;

/// <summary>
/// Optional hooks around each frame connection, for a handler that keeps a session: register an implementation in
/// DI, or implement it on the <see cref="IFrameHandler"/> itself. Both run on the connection's own task, not on the
/// worker pool, once per connection. Without an implementation the server calls nothing.
/// </summary>
public interface IFrameConnectionLifecycle
{
    /// <summary>
    /// Runs after the PROXY header and the TLS handshake, before the connection's first request is read. An
    /// exception closes the connection without an answer (logged at Error); <see cref="OnClosingAsync"/> then does
    /// not run.
    /// </summary>
    /// <param name="connection">The connection; <see cref="FrameConnectionInfo.Items"/> is the place for its state.</param>
    /// <param name="cancellationToken">Fires if the connection is aborted meanwhile.</param>
    ValueTask OnConnectedAsync(FrameConnectionInfo connection, CancellationToken cancellationToken);

    /// <summary>
    /// Runs once the connection's last answer is written and no handler call of it is left running, before the
    /// socket closes. An exception is logged at Error; the connection closes all the same.
    /// </summary>
    /// <param name="connection">The same instance <see cref="OnConnectedAsync"/> got.</param>
    /// <param name="reason">Why the connection ended.</param>
    ValueTask OnClosingAsync(FrameConnectionInfo connection, FrameCloseReason reason);
}
