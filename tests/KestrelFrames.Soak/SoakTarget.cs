using System.Globalization;

namespace KestrelFrames.Soak;

/// <summary>A server's Frames endpoint: "plain" or "tls", and where it listens.</summary>
internal sealed record SoakTarget(string Name, string Host, int Port, bool Tls)
{
    /// <summary>Parses <c>host:port</c>; the soak test only ever talks to loopback, but the host is not assumed.</summary>
    public static SoakTarget Parse(string name, string endpoint, bool tls)
    {
        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
        {
            throw new ArgumentException($"--{name} must be host:port (was '{endpoint}')");
        }

        return new SoakTarget(name, endpoint[..colon], port, tls);
    }

    public override string ToString() => $"{Name} {Host}:{Port}";
}
