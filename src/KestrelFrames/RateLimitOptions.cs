namespace KestrelFrames;

/// <summary>
/// Per-client rate limits, section <c>Frames:RateLimit</c>. A client is its address as the server knows it: the
/// source of a trusted PROXY header, else the socket's peer. Every value 0 (the default) turns its limit off.
/// </summary>
public sealed class RateLimitOptions
{
    /// <summary>
    /// Requests per second one client address may send, over all its connections (a token bucket that refills at this
    /// rate). A request over it is answered Busy with the reason "rate limit" and not run; the connection stays open.
    /// Heartbeats are not counted. 0 (default) turns it off.
    /// </summary>
    public int RequestsPerSecond { get; set; }

    /// <summary>
    /// Requests one client address may send at once after being quiet (the bucket's size). 0 (default) means
    /// <see cref="RequestsPerSecond"/>: one second's worth. A client that pipelines needs at least its pipeline depth.
    /// </summary>
    public int Burst { get; set; }

    /// <summary>
    /// New connections per second one client address may open (a token bucket of one second's worth). A connection
    /// over it is answered ConnectionLimit with the reason "connection rate" and closed. 0 (default) turns it off.
    /// </summary>
    public int ConnectionsPerSecond { get; set; }

    /// <summary>The bucket size that applies: <see cref="Burst"/>, or <see cref="RequestsPerSecond"/> when it is 0.</summary>
    internal int EffectiveBurst => Burst > 0 ? Burst : RequestsPerSecond;
}
