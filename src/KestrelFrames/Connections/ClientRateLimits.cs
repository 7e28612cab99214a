using KestrelFrames.Primitives;

namespace KestrelFrames.Connections;

/// <summary>
/// The rate limits of one configuration (Frames:RateLimit) as buckets' policies: immutable, and replaced whole when
/// the configuration changes, so a request reads one consistent pair from one volatile reference.
/// </summary>
internal sealed class ClientRateLimits
{
    public ClientRateLimits(RateLimitOptions options, long timestampFrequency)
    {
        LimitsRequests = options.RequestsPerSecond > 0;
        LimitsConnections = options.ConnectionsPerSecond > 0;
        if (LimitsRequests)
        {
            Requests = new TokenBucket(options.RequestsPerSecond, options.EffectiveBurst, timestampFrequency);
        }

        if (LimitsConnections)
        {
            Connections = new TokenBucket(options.ConnectionsPerSecond, options.ConnectionsPerSecond, timestampFrequency);
        }
    }

    /// <summary>Either limit is on: connections hold a partition.</summary>
    public bool IsEnabled => LimitsRequests || LimitsConnections;

    public bool LimitsRequests { get; }

    public bool LimitsConnections { get; }

    public TokenBucket Requests { get; }

    public TokenBucket Connections { get; }
}
