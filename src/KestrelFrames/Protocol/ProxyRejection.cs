namespace KestrelFrames.Protocol;

/// <summary>Why a connection was closed by the PROXY protocol reader; the <c>reason</c> label of frames_proxy_protocol_rejected_total.</summary>
internal enum ProxyRejection
{
    /// <summary>A header (or, in Required mode, any connection) from a peer not in TrustedProxies.</summary>
    Untrusted,

    /// <summary>Required mode, and a trusted peer sent no header.</summary>
    Missing,

    /// <summary>The bytes started like a header and broke its rules.</summary>
    Malformed,

    /// <summary>Required mode, and nothing arrived within HeaderTimeout.</summary>
    Timeout,
}
