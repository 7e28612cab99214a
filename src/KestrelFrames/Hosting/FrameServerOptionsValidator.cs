using KestrelFrames.Connections;
using KestrelFrames.Processing;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Hosting;

/// <summary>Checks every key at start and names it in the failure, as an operator types it in configuration.</summary>
internal sealed class FrameServerOptionsValidator : IValidateOptions<FrameServerOptions>
{
    public ValidateOptionsResult Validate(string? name, FrameServerOptions options)
    {
        var failures = new List<string>();
        Check(failures, nameof(options.MaxFrameSize), options.MaxFrameSize, 1, int.MaxValue);
        Check(failures, nameof(options.Workers), options.Workers, 1, 100_000);
        Check(failures, nameof(options.QueueCapacity), options.QueueCapacity, 1, 10_000_000);
        Check(failures, nameof(options.MaxInFlightPerConnection), options.MaxInFlightPerConnection, 1, 65_536);
        Check(failures, nameof(options.MaxConnections), options.MaxConnections, 1, 10_000_000);
        Check(failures, nameof(options.MaxConnectionsPerIp), options.MaxConnectionsPerIp, 0, 10_000_000);
        Check(failures, nameof(options.MaxBufferedBytes), options.MaxBufferedBytes, options.MaxFrameSize, long.MaxValue);
        Check(failures, nameof(options.TransportBlockSize), options.TransportBlockSize, 4096, 1024 * 1024);
        Check(failures, nameof(options.TransportLoops), options.TransportLoops, 0, 256);
        ValidateTransport(failures, options.Transport);
        CheckTime(failures, nameof(options.ReadTimeout), options.ReadTimeout, allowZero: false);
        CheckTime(failures, nameof(options.IdleTimeout), options.IdleTimeout, allowZero: false);
        CheckTime(failures, nameof(options.WriteTimeout), options.WriteTimeout, allowZero: false);
        CheckTime(failures, nameof(options.KeepAlive), options.KeepAlive, allowZero: true);
        CheckTime(failures, nameof(options.LingerTimeout), options.LingerTimeout, allowZero: true);
        CheckTime(failures, nameof(options.MaxConnectionAge), options.MaxConnectionAge, allowZero: true);
        CheckTime(failures, nameof(options.DrainDelay), options.DrainDelay, allowZero: true);
        CheckTime(failures, nameof(options.TlsHandshakeTimeout), options.TlsHandshakeTimeout, allowZero: false);
        ValidateProxyProtocol(failures, options.ProxyProtocol);
        ValidateRateLimit(failures, options.RateLimit);
        ValidateLanes(failures, options);
        if (!Enum.IsDefined(options.OverloadMode))
        {
            failures.Add($"{FrameServerOptions.SectionName}:{nameof(options.OverloadMode)} must be Backpressure or Shed (was {options.OverloadMode}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateTransport(List<string> failures, FrameTransport transport)
    {
        const string Key = $"{FrameServerOptions.SectionName}:{nameof(FrameServerOptions.Transport)}";
        if (!Enum.IsDefined(transport))
        {
            failures.Add($"{Key} must be Auto, Epoll or Sockets (was {transport}).");
        }
        else if (transport == FrameTransport.Epoll && !(OperatingSystem.IsLinux() && Environment.Is64BitProcess))
        {
            failures.Add($"{Key} is Epoll, which needs 64-bit Linux; use Auto or Sockets on this machine.");
        }
    }

    private static void ValidateProxyProtocol(List<string> failures, ProxyProtocolOptions proxy)
    {
        const string Key = $"{FrameServerOptions.SectionName}:{nameof(FrameServerOptions.ProxyProtocol)}";
        if (!Enum.IsDefined(proxy.Mode))
        {
            failures.Add($"{Key}:Mode must be Off, Optional or Required (was {proxy.Mode}).");
        }

        CheckTime(failures, $"{nameof(FrameServerOptions.ProxyProtocol)}:{nameof(proxy.HeaderTimeout)}", proxy.HeaderTimeout, allowZero: false);
        for (int i = 0; i < proxy.TrustedProxies.Length; i++)
        {
            if (!TrustedProxies.TryParseEntry(proxy.TrustedProxies[i], out _))
            {
                failures.Add($"{Key}:TrustedProxies:{i} is not an IP address or CIDR range (was '{proxy.TrustedProxies[i]}').");
            }
        }

        if (proxy.Mode != ProxyProtocolMode.Off && proxy.TrustedProxies.Length == 0)
        {
            failures.Add($"{Key}:TrustedProxies must list the balancers' addresses when {Key}:Mode is {proxy.Mode}.");
        }
    }

    /// <summary>
    /// Each 0 (off) up to a million a second, beyond any one client's share of a server. Burst 0 means one second's
    /// worth (RequestsPerSecond); a Burst while RequestsPerSecond is 0 is allowed and does nothing, so the limit can
    /// be turned off with one key.
    /// </summary>
    private static void ValidateRateLimit(List<string> failures, RateLimitOptions rate)
    {
        const int MaxRate = 1_000_000;
        const string Key = nameof(FrameServerOptions.RateLimit);
        Check(failures, $"{Key}:{nameof(rate.RequestsPerSecond)}", rate.RequestsPerSecond, 0, MaxRate);
        Check(failures, $"{Key}:{nameof(rate.Burst)}", rate.Burst, 0, MaxRate);
        Check(failures, $"{Key}:{nameof(rate.ConnectionsPerSecond)}", rate.ConnectionsPerSecond, 0, MaxRate);
    }

    /// <summary>
    /// Priorities must order the lanes unambiguously around the default lane's 0, and the reserved workers must leave
    /// the default lane at least one worker, or its requests would never run.
    /// </summary>
    private static void ValidateLanes(List<string> failures, FrameServerOptions options)
    {
        const string Key = nameof(FrameServerOptions.Lanes);
        var priorities = new Dictionary<int, string>();
        long reserved = 0;
        foreach ((string name, FrameLaneOptions lane) in options.Lanes.OrderBy(l => l.Key, StringComparer.OrdinalIgnoreCase))
        {
            string laneKey = $"{Key}:{name}";
            if (string.Equals(name, LaneNames.Default, StringComparison.OrdinalIgnoreCase))
            {
                failures.Add($"{FrameServerOptions.SectionName}:{laneKey} cannot be configured: the default lane is set by {FrameServerOptions.SectionName}:{nameof(options.QueueCapacity)} and {FrameServerOptions.SectionName}:{nameof(options.Workers)}.");
                continue;
            }

            if (lane.Priority == 0)
            {
                failures.Add($"{FrameServerOptions.SectionName}:{laneKey}:{nameof(lane.Priority)} must be set: above 0 runs before the default lane, below 0 after it.");
            }
            else if (!priorities.TryAdd(lane.Priority, name))
            {
                failures.Add($"{FrameServerOptions.SectionName}:{laneKey}:{nameof(lane.Priority)} ({lane.Priority}) is also {FrameServerOptions.SectionName}:{Key}:{priorities[lane.Priority]}'s: each lane needs its own.");
            }

            Check(failures, $"{laneKey}:{nameof(lane.QueueCapacity)}", lane.QueueCapacity, 1, 10_000_000);
            Check(failures, $"{laneKey}:{nameof(lane.ReservedWorkers)}", lane.ReservedWorkers, 0, Math.Max(0, options.Workers - 1));
            reserved += Math.Max(0, lane.ReservedWorkers);
        }

        if (reserved >= options.Workers && options.Workers > 0)
        {
            failures.Add($"{FrameServerOptions.SectionName}:{Key}:*:{nameof(FrameLaneOptions.ReservedWorkers)} add up to {reserved}, which must leave at least one of {FrameServerOptions.SectionName}:{nameof(options.Workers)} ({options.Workers}) shared.");
        }
    }

    private static void CheckTime(List<string> failures, string key, TimeSpan value, bool allowZero)
    {
        if (value < TimeSpan.Zero || (!allowZero && value == TimeSpan.Zero) || value > TimeSpan.FromDays(365))
        {
            string range = allowZero ? "zero (off) or positive" : "positive";
            failures.Add($"{FrameServerOptions.SectionName}:{key} must be {range}, as hh:mm:ss (was {value}).");
        }
    }

    private static void Check(List<string> failures, string key, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{FrameServerOptions.SectionName}:{key} must be between {min} and {max} (was {value}).");
        }
    }
}
