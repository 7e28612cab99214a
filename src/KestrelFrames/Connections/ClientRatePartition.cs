using KestrelFrames.Primitives;

namespace KestrelFrames.Connections;

/// <summary>
/// The rate-limit state of one client address: its request bucket and its connection bucket, and how many
/// connections hold it. A connection holds its client's partition from accept to close
/// (<see cref="ClientRateLimiter.Hold"/>, <see cref="Release"/>) and takes tokens only meanwhile, so
/// a partition nobody holds cannot change, and one somebody holds is never dropped from the map.
/// </summary>
internal sealed class ClientRatePartition
{
    private const int Retired = -1;

    private readonly ClientRateLimiter _limiter;
    private long _requests;
    private long _connections;

    // Connections holding this partition; Retired once the sweep has taken it out of use (never held again).
    private int _holders;

    public ClientRatePartition(ClientRateLimiter limiter, long requests = TokenBucket.Full, long connections = TokenBucket.Full)
    {
        _limiter = limiter;
        _requests = requests;
        _connections = connections;
    }

    /// <summary>
    /// Read loop, per request: one compare-and-swap on this client's bucket, no lock, no allocation. True when the
    /// limit was turned off since the connection took the partition.
    /// </summary>
    public bool TryAcquireRequest(long now)
    {
        ClientRateLimits limits = _limiter.Limits;
        return !limits.LimitsRequests || limits.Requests.TryTake(ref _requests, now);
    }

    /// <summary>At accept, once per connection; the caller has seen the connection limit on.</summary>
    public bool TryAcquireConnection(ClientRateLimits limits, long now) => limits.Connections.TryTake(ref _connections, now);

    /// <summary>No connection holds it and both buckets are full: dropping it loses nothing.</summary>
    public bool IsIdle(long now) => Volatile.Read(ref _holders) == 0 && BucketsFull(now);

    /// <summary>Both buckets are full at <paramref name="now"/>, as a new partition's are.</summary>
    public bool BucketsFull(long now) => TokenBucket.IsFull(ref _requests, now) && TokenBucket.IsFull(ref _connections, now);

    /// <summary>Counts one more connection holding it; false once it is retired, and then it must not be used.</summary>
    public bool TryHold()
    {
        int holders = Volatile.Read(ref _holders);
        while (holders != Retired)
        {
            int seen = Interlocked.CompareExchange(ref _holders, holders + 1, holders);
            if (seen == holders)
            {
                return true;
            }

            holders = seen;
        }

        return false;
    }

    public void Release() => Interlocked.Decrement(ref _holders);

    /// <summary>Sweep: takes it out of use if nobody holds it. From then on its state cannot change.</summary>
    public bool TryRetire() => Interlocked.CompareExchange(ref _holders, Retired, 0) == 0;

    /// <summary>A partition in use, with a retired one's state: what replaces it when it was retired too early.</summary>
    public ClientRatePartition Revive() => new(_limiter, Volatile.Read(ref _requests), Volatile.Read(ref _connections));
}
