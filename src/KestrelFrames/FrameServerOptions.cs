

namespace KestrelFrames;

/// <summary>Limits of the frame server, bound from the <c>Frames</c> configuration section and validated at start.</summary>
public sealed class FrameServerOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Frames";

    /// <summary>Largest request payload in bytes; a larger header is answered FrameTooLarge. Default 1 MiB, at most 2^31-1.</summary>
    public int MaxFrameSize { get; set; } = 1024 * 1024;

    /// <summary>Requests handled at once across all connections. Default 64.</summary>
    public int Workers { get; set; } = 64;

    /// <summary>
    /// Work items that may wait for a worker. An item is the requests parsed from one read of one connection (at most
    /// <see cref="MaxInFlightPerConnection"/>), which travel to the pool together. Default 1024.
    /// </summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Answers one connection may have pending (in the pool or waiting to be written); beyond it the connection stops reading. Default 32.</summary>
    public int MaxInFlightPerConnection { get; set; } = 32;

    /// <summary>What happens to a request that finds the worker queue full. Default <see cref="OverloadMode.Backpressure"/>.</summary>
    public OverloadMode OverloadMode { get; set; } = OverloadMode.Backpressure;

    /// <summary>Frame connections open at once; the next one is answered ConnectionLimit and closed. Default 10000.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>Frame connections open at once from one client address; 0 turns the limit off. Default 0.</summary>
    public int MaxConnectionsPerIp { get; set; }

    /// <summary>
    /// Request bytes the server holds at once across all connections: payloads queued or being handled, and frames
    /// partly received. A connection whose next frame does not fit stops reading (or, in Shed mode, gets Busy for a
    /// complete frame) until others are answered. Default 256 MiB.
    /// </summary>
    public long MaxBufferedBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Size in bytes of the transport's receive and send blocks (Kestrel's own are 4 KiB). One socket receive fills
    /// at most one block, so a block larger than typical frames saves receives and read-loop wake-ups. Idle
    /// connections hold none; a connection with unread bytes holds one per direction, so the worst case is
    /// MaxConnections x 2 x this. Default 32 KiB; between 4 KiB and 1 MiB.
    /// </summary>
    public int TransportBlockSize { get; set; } = 32 * 1024;

    /// <summary>
    /// The transport under the Frames endpoint: <see cref="FrameTransport.Auto"/> (default) runs the epoll transport
    /// on 64-bit Linux and Kestrel's sockets elsewhere. HTTP endpoints always use Kestrel's sockets.
    /// </summary>
    public FrameTransport Transport { get; set; } = FrameTransport.Auto;

    /// <summary>Event loops (threads) of the epoll transport; 0 (default) means one per core. At most 256.</summary>
    public int TransportLoops { get; set; }

    /// <summary>The transport <see cref="Transport"/> selects on this machine: never <see cref="FrameTransport.Auto"/>.</summary>
    internal FrameTransport ResolvedTransport => Transport != FrameTransport.Auto
        ? Transport
        : OperatingSystem.IsLinux() && Environment.Is64BitProcess ? FrameTransport.Epoll : FrameTransport.Sockets;

    /// <summary>Once a frame's first byte arrives, the whole frame must arrive within this; else FrameTimeout. Default 10 s.</summary>
    public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>No frame received and nothing in flight for this long: IdleTimeout. Default 60 s.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>An answer the client does not read for this long aborts the connection. Default 10 s.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After the frame that ends a connection (a closing status), how long the server keeps reading and discarding
    /// what the client still sends, waiting for it to close, before it closes itself: a client still sending then
    /// reads every answer and a clean end of stream instead of a reset. Zero closes at once. Default 2 s.
    /// </summary>
    public TimeSpan LingerTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>TCP keep-alive idle time on accepted sockets; zero turns keep-alive off. Default 30 s.</summary>
    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// When set, a connection older than this (plus up to 10% random jitter) is drained like at shutdown, so L4
    /// balancers can rebalance long-lived clients. Zero (default) turns it off.
    /// </summary>
    public TimeSpan MaxConnectionAge { get; set; }

    /// <summary>
    /// At shutdown, how long readiness reports 503 while the server keeps serving, before it stops accepting and
    /// drains, so a load balancer stops sending new connections first. Default 0; containers set 5 s.
    /// </summary>
    public TimeSpan DrainDelay { get; set; }

    /// <summary>On an https:// Frames endpoint, how long a client has to complete the TLS handshake. Default 10 s.</summary>
    public TimeSpan TlsHandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>PROXY protocol from L4 balancers, so limits, logs and traces see the real client address.</summary>
    public ProxyProtocolOptions ProxyProtocol { get; set; } = new();

    /// <summary>Per-client request and connection rates, partitioned by client address (after PROXY protocol). Off by default.</summary>
    public RateLimitOptions RateLimit { get; set; } = new();

    /// <summary>
    /// Priority lanes by name (<c>Frames:Lanes:&lt;name&gt;</c>), used when an <see cref="IFrameLaneClassifier"/> is
    /// registered. "default" is the name of the lane every other request runs in, and cannot be configured here.
    /// Empty by default: one lane.
    /// </summary>
    public IDictionary<string, FrameLaneOptions> Lanes { get; } = new Dictionary<string, FrameLaneOptions>(StringComparer.OrdinalIgnoreCase);
}
