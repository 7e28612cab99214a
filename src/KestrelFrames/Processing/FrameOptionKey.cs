using System.Globalization;

namespace KestrelFrames.Processing;

/// <summary>
/// One key of the <c>Frames</c> section as an operator types it, and whether the running server can take a new value
/// for it (<see cref="LiveFrameOptions"/>). A key that is not live is read once, by something built at start: the
/// worker pool and its queue, the transport and its block pool, the middleware chain bound to the endpoint.
/// </summary>
internal sealed class FrameOptionKey
{
    private readonly Func<FrameServerOptions, object> _read;
    private readonly Action<FrameServerOptions, FrameServerOptions>? _keepRunning;

    private FrameOptionKey(string name, Func<FrameServerOptions, object> read, Action<FrameServerOptions, FrameServerOptions>? keepRunning)
    {
        Name = name;
        _read = read;
        _keepRunning = keepRunning;
    }

    /// <summary>Every key of the section; a test checks none is missing.</summary>
    public static IReadOnlyList<FrameOptionKey> All { get; } =
    [
        Live("MaxFrameSize", o => o.MaxFrameSize),
        RestartOnly("Workers", o => o.Workers, (next, running) => next.Workers = running.Workers),
        RestartOnly("QueueCapacity", o => o.QueueCapacity, (next, running) => next.QueueCapacity = running.QueueCapacity),
        Live("MaxInFlightPerConnection", o => o.MaxInFlightPerConnection),
        Live("OverloadMode", o => o.OverloadMode),
        Live("MaxConnections", o => o.MaxConnections),
        Live("MaxConnectionsPerIp", o => o.MaxConnectionsPerIp),
        Live("MaxBufferedBytes", o => o.MaxBufferedBytes),
        RestartOnly("TransportBlockSize", o => o.TransportBlockSize, (next, running) => next.TransportBlockSize = running.TransportBlockSize),
        RestartOnly("Transport", o => o.Transport, (next, running) => next.Transport = running.Transport),
        RestartOnly("TransportLoops", o => o.TransportLoops, (next, running) => next.TransportLoops = running.TransportLoops),
        Live("ReadTimeout", o => o.ReadTimeout),
        Live("IdleTimeout", o => o.IdleTimeout),
        Live("WriteTimeout", o => o.WriteTimeout),
        Live("LingerTimeout", o => o.LingerTimeout),
        Live("KeepAlive", o => o.KeepAlive),
        Live("MaxConnectionAge", o => o.MaxConnectionAge),
        Live("DrainDelay", o => o.DrainDelay),

        // Kestrel's TLS middleware copies the handshake timeout when the endpoint binds.
        RestartOnly("TlsHandshakeTimeout", o => o.TlsHandshakeTimeout, (next, running) => next.TlsHandshakeTimeout = running.TlsHandshakeTimeout),

        // The PROXY middleware is in the endpoint's chain or not, with its trusted ranges parsed, from the bind on.
        RestartOnly("ProxyProtocol:Mode", o => o.ProxyProtocol.Mode, (next, running) => next.ProxyProtocol.Mode = running.ProxyProtocol.Mode),
        RestartOnly("ProxyProtocol:TrustedProxies", o => o.ProxyProtocol.TrustedProxies, (next, running) => next.ProxyProtocol.TrustedProxies = running.ProxyProtocol.TrustedProxies),
        Live("ProxyProtocol:HeaderTimeout", o => o.ProxyProtocol.HeaderTimeout),
        Live("RateLimit:RequestsPerSecond", o => o.RateLimit.RequestsPerSecond),
        Live("RateLimit:Burst", o => o.RateLimit.Burst),
        Live("RateLimit:ConnectionsPerSecond", o => o.RateLimit.ConnectionsPerSecond),
    ];

    /// <summary>The key under <c>Frames</c>, e.g. <c>RateLimit:Burst</c>.</summary>
    public string Name { get; }

    /// <summary>The running server takes a new value without a restart.</summary>
    public bool IsLive => _keepRunning is null;

    /// <summary>The value as the log shows it, in the form configuration takes it (hh:mm:ss for times).</summary>
    public string Read(FrameServerOptions options) => _read(options) switch
    {
        TimeSpan time => time.ToString("c", CultureInfo.InvariantCulture),
        string[] list => "[" + string.Join(", ", list) + "]",
        IFormattable value => value.ToString(null, CultureInfo.InvariantCulture),
        var value => value.ToString() ?? "",
    };

    /// <summary>Puts the running value of a key that is not live back into <paramref name="next"/>.</summary>
    public void KeepRunning(FrameServerOptions next, FrameServerOptions running) =>
        (_keepRunning ?? throw new InvalidOperationException($"{Name} is live."))(next, running);

    private static FrameOptionKey Live(string name, Func<FrameServerOptions, object> read) => new(name, read, null);

    private static FrameOptionKey RestartOnly(string name, Func<FrameServerOptions, object> read, Action<FrameServerOptions, FrameServerOptions> keepRunning) =>
        new(name, read, keepRunning);
}
