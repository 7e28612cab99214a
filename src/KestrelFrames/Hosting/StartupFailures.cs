using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace KestrelFrames.Hosting;

/// <summary>
/// Names the configuration key behind a failure at host start, for the one line RunFrameServerAsync prints. Kestrel's own
/// exceptions name an address at best (a bind error from the socket names nothing), never the key that set it.
/// </summary>
internal static class StartupFailures
{
    private const string Endpoints = "Kestrel:Endpoints";

    /// <summary>
    /// The endpoint that cannot be bound for <paramref name="error"/>: the server has given its sockets back by now,
    /// so each configured address is bound again, alone, and the one that fails the same way is the one.
    /// </summary>
    public static string BindFailure(IConfiguration configuration, SocketError error, string reason)
    {
        foreach (IConfigurationSection endpoint in configuration.GetSection(Endpoints).GetChildren())
        {
            string? url = endpoint["Url"];
            if (url is not null && ToEndPoint(url) is { } address && FailsToBind(address, error))
            {
                return $"{endpoint.Path}:Url cannot be bound (was '{url}'): {reason}";
            }
        }

        return $"an endpoint under {Endpoints} cannot be bound: {reason}";
    }

    /// <summary>The certificate settings an unreadable certificate comes from: those of the https:// endpoints.</summary>
    public static string CertificateFailure(IConfiguration configuration, string reason)
    {
        string[] keys = [.. configuration.GetSection(Endpoints).GetChildren()
            .Where(e => e["Url"]?.StartsWith("https:", StringComparison.OrdinalIgnoreCase) == true)
            .Select(e => e.GetSection("Certificate").Exists() ? $"{e.Path}:Certificate" : "Kestrel:Certificates:Default")
            .Distinct()];
        return $"{(keys.Length > 0 ? string.Join(" or ", keys) : "Kestrel:Certificates")} cannot be read: {reason}";
    }

    private static IPEndPoint? ToEndPoint(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return null;
        }

        if (address.IsUnixPipe || address.IsNamedPipe)
        {
            return null;
        }

        // As Kestrel binds them: an IP as given, localhost on loopback, any other name on every address.
        IPAddress ip = IPAddress.TryParse(address.Host, out IPAddress? parsed) ? parsed
            : string.Equals(address.Host, "localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any;
        return new IPEndPoint(ip, address.Port);
    }

    private static bool FailsToBind(IPEndPoint address, SocketError error)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (address.Address.Equals(IPAddress.IPv6Any))
        {
            socket.DualMode = true;
        }

        try
        {
            socket.Bind(address);
            return false;
        }
        catch (SocketException ex)
        {
            return ex.SocketErrorCode == error;
        }
    }
}
