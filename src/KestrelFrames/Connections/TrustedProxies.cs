using System.Net;

namespace KestrelFrames.Connections;

/// <summary>The peers allowed to send a PROXY protocol header: addresses and CIDR ranges, IPv4-mapped IPv6 folded to IPv4.</summary>
internal sealed class TrustedProxies
{
    private readonly IPNetwork[] _networks;

    public TrustedProxies(IEnumerable<string> entries) =>
        _networks = [.. entries.Select(e => TryParseEntry(e, out IPNetwork network) ? network : throw new FormatException(e))];

    public bool Contains(IPAddress address)
    {
        IPAddress normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (IPNetwork network in _networks)
        {
            if (network.Contains(normalized))
            {
                return true;
            }
        }

        return false;
    }

    public static bool TryParseEntry(string entry, out IPNetwork network)
    {
        if (IPAddress.TryParse(entry, out IPAddress? address))
        {
            address = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            network = new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return IPNetwork.TryParse(entry, out network);
    }
}
