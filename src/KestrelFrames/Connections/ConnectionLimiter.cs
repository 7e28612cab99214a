using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Connections;

/// <summary>Counts open frame connections, in all and per client address, against MaxConnections and MaxConnectionsPerIp.</summary>
internal sealed class ConnectionLimiter(IOptions<FrameServerOptions> options)
{
    private readonly int _maxConnections = options.Value.MaxConnections;
    private readonly int _maxPerIp = options.Value.MaxConnectionsPerIp;
    private readonly ConcurrentDictionary<IPAddress, int> _perIp = new();
    private int _total;

    public int Total => Volatile.Read(ref _total);

    public int CountFor(IPAddress address) => _perIp.TryGetValue(Normalize(address), out int count) ? count : 0;

    /// <summary>Takes a slot, or says which limit is full. A successful acquire must be paired with <see cref="Release"/>.</summary>
    public ConnectionLimitResult TryAcquire(IPAddress? address)
    {
        if (Interlocked.Increment(ref _total) > _maxConnections)
        {
            Interlocked.Decrement(ref _total);
            return ConnectionLimitResult.ConnectionLimit;
        }

        if (_maxPerIp == 0 || address is null)
        {
            return ConnectionLimitResult.Acquired;
        }

        int count = _perIp.AddOrUpdate(Normalize(address), 1, static (_, c) => c + 1);
        if (count > _maxPerIp)
        {
            ReleaseAddress(Normalize(address));
            Interlocked.Decrement(ref _total);
            return ConnectionLimitResult.PerIpLimit;
        }

        return ConnectionLimitResult.Acquired;
    }

    public void Release(IPAddress? address)
    {
        if (_maxPerIp != 0 && address is not null)
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
