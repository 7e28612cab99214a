using System.Collections.Concurrent;
using System.Net;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;

namespace KestrelFrames.Connections;

/// <summary>
/// Frames:RateLimit: a token bucket for requests and one for new connections per client address (after PROXY
/// protocol), in a map of partitions that forgets idle addresses, so a scan from a million addresses costs memory
/// only while they are active.
/// </summary>
/// <remarks>
/// <para>
/// Why not System.Threading.RateLimiting (it is in the shared framework): <c>PartitionedRateLimiter.Create</c> locks
/// its one dictionary on every acquire, a global lock on the request path; it disposes an idle partition's limiter
/// even while a connection still holds it (the next acquire throws <see cref="ObjectDisposedException"/>), so a
/// connection would have to look its limiter up per request; and it replenishes and expires partitions on a 100 ms
/// timer that walks all of them. Its <c>TokenBucketRateLimiter</c> locks per acquire, allocates a lease per refused
/// acquire (its retry-after), and reads the real clock (Environment.TickCount/Stopwatch: no <see cref="TimeProvider"/>,
/// dotnet/runtime#106447), so neither its rate nor its idle expiry could be tested without waiting in real time.
/// </para>
/// <para>
/// So: a <see cref="ConcurrentDictionary{TKey,TValue}"/> of <see cref="ClientRatePartition"/>s, each bucket a
/// <see cref="TokenBucket"/> (one long, refilled by the clock, taken by compare-and-swap). A connection looks its
/// partition up once, at accept, and holds it until it closes; the request path then touches only that partition:
/// no lookup, no lock, no allocation, no wait. The partition map is only touched per connection.
/// </para>
/// <para>
/// Expiry: every <see cref="SweepInterval"/> a sweep on the <see cref="TimeProvider"/>'s timer drops each partition
/// that no connection holds and whose buckets are full again (a full bucket is what a new partition starts as, so
/// dropping it changes no answer). That is at most Burst / RequestsPerSecond seconds (1 s for the connection bucket)
/// after an address's last request or connection closed, plus up to one interval. A held partition is never dropped,
/// so a connection never uses a partition the map no longer has, and two connections of one address always share
/// one. The sweep retires a partition (no hold succeeds after that) before it removes it, and checks it is still
/// full after retiring; if a connection came and went in between, it puts a copy of the state back instead.
/// </para>
/// <para>
/// The limits follow the configuration (<see cref="Limits"/>, replaced whole): a new rate applies to the next token
/// of every partition, and a partition's state, a timestamp, stays meaningful across it. Turning the request limit on
/// reaches the connections opened after; turning it off frees the ones holding a partition at their next request.
/// </para>
/// </remarks>
internal sealed class ClientRateLimiter : IDisposable
{
    private readonly ConcurrentDictionary<IPAddress, ClientRatePartition> _partitions = new();
    private readonly TimeProvider _time;
    private readonly Lock _timerLock = new();
    private volatile ClientRateLimits _limits = null!;
    private ITimer? _sweep;
    private bool _disposed;
    private int _count;
    private int _sweeping;

    public ClientRateLimiter(LiveFrameOptions options, TimeProvider time)
    {
        _time = time;
        options.Subscribe(Configure);
    }

    /// <summary>How often idle partitions are dropped.</summary>
    public static TimeSpan SweepInterval { get; } = TimeSpan.FromSeconds(1);

    /// <summary>The limits now: read once per decision, so one decision sees one configuration.</summary>
    public ClientRateLimits Limits => _limits;

    /// <summary>Either limit is on: connections hold a partition.</summary>
    public bool IsEnabled => _limits.IsEnabled;

    /// <summary>Client addresses with a partition now.</summary>
    public int PartitionCount => Volatile.Read(ref _count);

    /// <summary>
    /// The partition of <paramref name="address"/>, held for one connection: pair with
    /// <see cref="ClientRatePartition.Release"/> when it closes. Creates it on the address's first connection (or its
    /// first since it was dropped).
    /// </summary>
    public ClientRatePartition Hold(IPAddress address)
    {
        IPAddress key = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        while (true)
        {
            if (!_partitions.TryGetValue(key, out ClientRatePartition? partition))
            {
                // Counted before it is added, so the sweep can never count it out first.
                partition = new ClientRatePartition(this);
                Interlocked.Increment(ref _count);
                if (!_partitions.TryAdd(key, partition))
                {
                    Interlocked.Decrement(ref _count);
                    continue;
                }
            }

            if (partition.TryHold())
            {
                return partition;
            }

            // The sweep retired it and has not removed it yet. Its state is frozen: carry it over, so that a client
            // reconnecting at that instant is not handed a fresh bucket.
            Revive(key, partition);
        }
    }

    /// <summary>Drops the partitions no connection holds whose buckets are full. Run by the timer; tests call it too.</summary>
    public void Sweep()
    {
        // A sweep longer than the interval (a huge map) must not run twice at once.
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return;
        }

        try
        {
            long now = _time.GetTimestamp();
            foreach (KeyValuePair<IPAddress, ClientRatePartition> entry in _partitions)
            {
                ClientRatePartition partition = entry.Value;
                if (!partition.IsIdle(now) || !partition.TryRetire())
                {
                    continue;
                }

                // Retired, nothing can take a token from it now. A connection may have held it, taken one and closed
                // between IsIdle and TryRetire: then its state still matters.
                if (partition.BucketsFull(now))
                {
                    if (_partitions.TryRemove(entry))
                    {
                        Interlocked.Decrement(ref _count);
                    }
                }
                else
                {
                    Revive(entry.Key, partition);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    public void Dispose()
    {
        lock (_timerLock)
        {
            _disposed = true;
            _sweep?.Dispose();
        }
    }

    private void Configure(FrameServerOptions options)
    {
        var limits = new ClientRateLimits(options.RateLimit, _time.TimestampFrequency);
        _limits = limits;

        // The sweep starts with the first limit turned on, and then keeps running: partitions made while a limit was
        // on must still be dropped after it is turned off.
        lock (_timerLock)
        {
            if (limits.IsEnabled && _sweep is null && !_disposed)
            {
                _sweep = _time.CreateTimer(static state => ((ClientRateLimiter)state!).Sweep(), this, SweepInterval, SweepInterval);
            }
        }
    }

    private void Revive(IPAddress key, ClientRatePartition retired) => _partitions.TryUpdate(key, retired.Revive(), retired);
}
