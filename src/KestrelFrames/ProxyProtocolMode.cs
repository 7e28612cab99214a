namespace KestrelFrames;

/// <summary>Whether the Frames endpoint expects a PROXY protocol header ahead of each connection.</summary>
public enum ProxyProtocolMode
{
    /// <summary>No PROXY protocol: bytes that look like a header are frames like any other.</summary>
    Off,

    /// <summary>Trusted proxies may send a header; connections without one are taken as direct.</summary>
    Optional,

    /// <summary>Every connection must come from a trusted proxy and start with a header.</summary>
    Required,
}
