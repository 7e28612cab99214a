namespace KestrelFrames.Client;

/// <summary>
/// Settings of a <see cref="FrameClient"/>. They are read once, by <see cref="FrameClient.ConnectAsync"/>: changing
/// them afterwards does not affect a client already connected.
/// </summary>
public sealed class FrameClientOptions
{
    /// <summary>The default of <see cref="MaxFrameSize"/>: 16 MiB.</summary>
    public const int DefaultMaxFrameSize = 16 * 1024 * 1024;

    /// <summary>
    /// When set, the client sends a heartbeat (an empty frame, answered by the server with an empty frame) whenever it
    /// has sent nothing for this long, so an idle connection is not closed by the server's idle timeout. Choose at most
    /// half the server's <c>IdleTimeout</c> (default 60 s), for example 20 s. Null (default): no heartbeats.
    /// </summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>When set, the connection is TLS (an <see cref="System.Net.Security.SslStream"/> over the socket). Null (default): plain TCP.</summary>
    public FrameClientTlsOptions? Tls { get; set; }

    /// <summary>
    /// How long one connection attempt may take: TCP connect, TLS handshake and the first heartbeat round trip, which
    /// proves the server is serving. Default 10 s; <see cref="Timeout.InfiniteTimeSpan"/> for no limit.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The largest answer the client accepts, in bytes. A larger header means a misbehaving server or a desynchronised
    /// stream: the client fails that request and drops the connection instead of buffering it. Default 16 MiB.
    /// </summary>
    public int MaxFrameSize { get; set; } = DefaultMaxFrameSize;

    /// <summary>
    /// Opt-in recovery: reconnect when the server shuts down or the connection drops, resend the requests that got no
    /// answer, and retry <see cref="FrameResponseStatus.Busy"/> answers with backoff. Null (default): a closed
    /// connection fails the requests it did not answer and the client stays closed.
    /// </summary>
    public FrameReconnectOptions? Reconnect { get; set; }

    /// <summary>
    /// The clock for heartbeats, the connect timeout and retry delays. Default <see cref="TimeProvider.System"/>;
    /// tests pass a fake one.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>A copy that the client keeps, so later changes by the caller do not reach it. Checks every value.</summary>
    internal FrameClientOptions Snapshot()
    {
        if (HeartbeatInterval is { } heartbeat)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(heartbeat, TimeSpan.Zero, nameof(HeartbeatInterval));
        }

        if (ConnectTimeout != Timeout.InfiniteTimeSpan)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameSize, 1, nameof(MaxFrameSize));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        var copy = (FrameClientOptions)MemberwiseClone();
        copy.Tls = Tls?.Snapshot();
        copy.Reconnect = Reconnect?.Snapshot();
        return copy;
    }
}
