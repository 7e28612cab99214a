using System.Collections.Concurrent;
using System.Net;
using KestrelFrames.Processing;

namespace KestrelFrames.Connections;

/// <summary>
/// Counts open frame connections, in all and per client address, against MaxConnections and MaxConnectionsPerIp as
/// they are at each attempt (both change with the configuration). Every address is counted, the per-IP limit on or
/// off, so a limit turned on while the server runs counts the connections already open too.
/// </summary>
internal sealed class ConnectionLimiter(LiveFrameOptions options)
{
    private readonly ConcurrentDictionary<IPAddress, int> _perIp = new();
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public int CountFor(IPAddress address) => _perIp.TryGetValue(Normalize(address), out int count) ? count : 0;

    /// <summary>Takes a slot, or says which limit is full. A successful acquire must be paired with <see cref="Release"/>.</summary>
    public ConnectionLimitResult TryAcquire(IPAddress? address)
    {
        FrameServerOptions limits = options.Current;
        if (Interlocked.Increment(ref _total) > limits.MaxConnections)
        {
            Interlocked.Decrement(ref _total);
            return ConnectionLimitResult.ConnectionLimit;
        }

        if (address is null)
        {
            return ConnectionLimitResult.Acquired;
        }

        int count = _perIp.AddOrUpdate(Normalize(address), 1, static (_, c) => c + 1);
        if (limits.MaxConnectionsPerIp != 0 && count > limits.MaxConnectionsPerIp)
        {
            ReleaseAddress(Normalize(address));
            Interlocked.Decrement(ref _total);
            return ConnectionLimitResult.PerIpLimit;
        }

        return ConnectionLimitResult.Acquired;
    }

    public void Release(IPAddress? address)
    {
        if (address is not null)
        {
            ReleaseAddress(Normalize(address));
        }

        Interlocked.Decrement(ref _total);
    }

    private void ReleaseAddress(IPAddress address)
    {
        int count = _perIp.AddOrUpdate(address, 0, static (_, c) => c - 1);

        // Remove the entry only if it is still zero, so that a concurrent acquire for the same address is kept.
        if (count == 0)
        {
            _perIp.TryRemove(new KeyValuePair<IPAddress, int>(address, 0));
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

/// <summary>The outcome of <see cref="ConnectionLimiter.TryAcquire"/>.</summary>
internal enum ConnectionLimitResult
{
    Acquired,
    ConnectionLimit,
    PerIpLimit,
}
