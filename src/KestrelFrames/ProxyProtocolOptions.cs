namespace KestrelFrames;

/// <summary>PROXY protocol (v1 and v2) on the Frames endpoint; section <c>Frames:ProxyProtocol</c>.</summary>
public sealed class ProxyProtocolOptions
{
    /// <summary>Off (default), Optional or Required.</summary>
    public ProxyProtocolMode Mode { get; set; } = ProxyProtocolMode.Off;

    /// <summary>
    /// Addresses or CIDR ranges (<c>10.0.0.0/8</c>) of the balancers allowed to send a header. A header from any
    /// other peer is a spoofing attempt: the connection is closed and counted.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>How long a connection may take to send its header. Default 5 s.</summary>
    public TimeSpan HeaderTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
