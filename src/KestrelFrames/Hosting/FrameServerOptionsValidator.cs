using KestrelFrames.Connections;
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
