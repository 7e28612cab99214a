namespace KestrelFrames.Protocol;

/// <summary>Why a connection was answered ConnectionLimit at accept; the <c>reason</c> label of frames_connections_rejected_total.</summary>
internal enum ConnectionRejection
{
    /// <summary>Frames:MaxConnections are open.</summary>
    ConnectionLimit,

    /// <summary>Frames:MaxConnectionsPerIp are open from this client address.</summary>
    PerIpLimit,

    /// <summary>This client address opened more than Frames:RateLimit:ConnectionsPerSecond.</summary>
    ConnectionRate,
}
