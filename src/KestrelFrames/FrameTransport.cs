namespace KestrelFrames;

/// <summary>The transport under the Frames endpoint (<c>Frames:Transport</c>).</summary>
public enum FrameTransport
{
    /// <summary>The epoll transport on 64-bit Linux, Kestrel's sockets elsewhere.</summary>
    Auto,

    /// <summary>KestrelFrames' own epoll transport: Linux only, one receive per request, a clean half-close.</summary>
    Epoll,

    /// <summary>Kestrel's socket transport, as HTTP endpoints use.</summary>
    Sockets,
}
