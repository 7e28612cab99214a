using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>PROXY protocol headers built by hand from the specification, for the parser's and the server's tests.</summary>
internal static class ProxyHeaders
{
    public static readonly byte[] V2Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>Two TLVs: ALPN "fr" and a NOOP of three bytes.</summary>
    public static readonly byte[] SomeTlvs = [.. Tlv(0x01, "fr"u8), .. Tlv(0x04, [1, 2, 3])];

    /// <summary>A v1 header: <paramref name="line"/> and CRLF.</summary>
    public static byte[] V1(string line) => Encoding.ASCII.GetBytes(line + "\r\n");

    /// <summary>A v1 TCP4 or TCP6 header, by the source's family.</summary>
    public static byte[] V1(IPEndPoint source, IPEndPoint destination) => V1(string.Create(
        CultureInfo.InvariantCulture,
        $"PROXY {(source.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6")} {source.Address} {destination.Address} {source.Port} {destination.Port}"));

    /// <summary>A v2 header: signature, version and command, family, length and <paramref name="payload"/>.</summary>
    public static byte[] V2(byte versionCommand, byte family, ReadOnlySpan<byte> payload) =>
        [.. V2Fixed(versionCommand, family, payload.Length), .. payload];

    /// <summary>The 16 fixed bytes of a v2 header announcing <paramref name="length"/> bytes after them.</summary>
    public static byte[] V2Fixed(byte versionCommand, byte family, int length)
    {
        byte[] header = [.. V2Signature, versionCommand, family, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), checked((ushort)length));
        return header;
    }

    /// <summary>A v2 PROXY header for TCP over IPv4 or IPv6, by the source's family, with <paramref name="tlvs"/> after the addresses.</summary>
    public static byte[] V2Proxy(IPEndPoint source, IPEndPoint destination, ReadOnlySpan<byte> tlvs = default) =>
        V2(0x21, source.AddressFamily == AddressFamily.InterNetwork ? (byte)0x11 : (byte)0x21, [.. Addresses(source, destination), .. tlvs]);

    /// <summary>A v2 LOCAL header: the balancer's own connection, a health check.</summary>
    public static byte[] V2Local() => V2(0x20, 0x00, []);

    /// <summary>The address block: source and destination addresses, then source and destination ports.</summary>
    public static byte[] Addresses(IPEndPoint source, IPEndPoint destination)
    {
        byte[] ports = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(ports, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(ports.AsSpan(2), (ushort)destination.Port);
        return [.. source.Address.GetAddressBytes(), .. destination.Address.GetAddressBytes(), .. ports];
    }

    public static byte[] Tlv(byte type, ReadOnlySpan<byte> value)
    {
        byte[] tlv = [type, 0, 0, .. value];
        BinaryPrimitives.WriteUInt16BigEndian(tlv.AsSpan(1), (ushort)value.Length);
        return tlv;
    }
}
