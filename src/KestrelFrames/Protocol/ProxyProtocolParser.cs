using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;

namespace KestrelFrames.Protocol;

/// <summary>
/// Parses PROXY protocol v1 (text) and v2 (binary) headers, as HAProxy and cloud L4 balancers send them ahead of
/// the client's bytes. Lengths are checked before anything is buffered, v2's TLVs are kept, and anything malformed is
/// <see cref="ProxyParseResult.Invalid"/>, never an exception.
/// </summary>
internal static class ProxyProtocolParser
{
    /// <summary>A v1 header is at most 107 bytes, CRLF included.</summary>
    public const int MaxV1Length = 107;

    /// <summary>The largest v2 header accepted: 16 fixed bytes and up to this many of addresses and TLVs.</summary>
    public const int MaxV2PayloadLength = 2048;

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    private static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>Parses the header at the start of <paramref name="buffer"/>; on success, advances past it.</summary>
    public static ProxyParseResult TryParse(ref ReadOnlySequence<byte> buffer, out ProxyHeader header)
    {
        header = default;
        if (buffer.IsEmpty)
        {
            return ProxyParseResult.Incomplete;
        }

        Span<byte> start = stackalloc byte[16];
        int available = (int)Math.Min(buffer.Length, start.Length);
        buffer.Slice(0, available).CopyTo(start);
        start = start[..available];

        if (StartsLike(start, V2Signature))
        {
            return available < 16 ? ProxyParseResult.Incomplete : ParseV2(ref buffer, start, out header);
        }

        if (StartsLike(start, V1Prefix))
        {
            return available < V1Prefix.Length ? ProxyParseResult.Incomplete : ParseV1(ref buffer, out header);
        }

        return ProxyParseResult.NotProxy;
    }

    /// <summary>True while the bytes seen so far agree with <paramref name="signature"/>.</summary>
    private static bool StartsLike(ReadOnlySpan<byte> bytes, ReadOnlySpan<byte> signature)
    {
        int n = Math.Min(bytes.Length, signature.Length);
        return n > 0 && bytes[..n].SequenceEqual(signature[..n]);
    }

    private static ProxyParseResult ParseV1(ref ReadOnlySequence<byte> buffer, out ProxyHeader header)
    {
        header = default;
        SequencePosition? lf = buffer.PositionOf((byte)'\n');
        if (lf is null)
        {
            return buffer.Length >= MaxV1Length ? ProxyParseResult.Invalid : ProxyParseResult.Incomplete;
        }

        ReadOnlySequence<byte> line = buffer.Slice(0, lf.Value);
        if (line.Length + 1 > MaxV1Length || line.Length < 2)
        {
            return ProxyParseResult.Invalid;
        }

        Span<byte> bytes = stackalloc byte[MaxV1Length];
        line.CopyTo(bytes);
        bytes = bytes[..(int)line.Length];
        if (bytes[^1] != (byte)'\r' || bytes[..^1].ContainsAnyExceptInRange((byte)0x20, (byte)0x7E))
        {
            return ProxyParseResult.Invalid;
        }

        string[] parts = Encoding.ASCII.GetString(bytes[..^1]).Split(' ');
        if (parts is ["PROXY", "UNKNOWN", ..])
        {
            buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
            header = new ProxyHeader(1, null, null);
            return ProxyParseResult.Parsed;
        }

        if (parts is not ["PROXY", "TCP4" or "TCP6", var source, var destination, var sourcePort, var destinationPort]
            || !TryParseAddress(source, parts[1] == "TCP4", out IPAddress? sourceAddress)
            || !TryParseAddress(destination, parts[1] == "TCP4", out IPAddress? destinationAddress)
            || !TryParsePort(sourcePort, out int sport)
            || !TryParsePort(destinationPort, out int dport))
        {
            return ProxyParseResult.Invalid;
        }

        buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
        header = new ProxyHeader(1, new IPEndPoint(sourceAddress, sport), new IPEndPoint(destinationAddress, dport));
        return ProxyParseResult.Parsed;
    }

    private static ProxyParseResult ParseV2(ref ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> fixedPart, out ProxyHeader header)
    {
        header = default;
        byte versionCommand = fixedPart[12];
        byte family = fixedPart[13];
        int length = BinaryPrimitives.ReadUInt16BigEndian(fixedPart[14..]);
        if ((versionCommand >> 4) != 2 || (versionCommand & 0x0F) > 1 || length > MaxV2PayloadLength)
        {
            return ProxyParseResult.Invalid;
        }

        if (buffer.Length < 16 + length)
        {
            return ProxyParseResult.Incomplete;
        }

        Span<byte> payload = stackalloc byte[length];
        buffer.Slice(16, length).CopyTo(payload);
        bool local = (versionCommand & 0x0F) == 0;
        IPEndPoint? source = null;
        IPEndPoint? destination = null;
        // The address block's size follows from the family's high nibble (INET, INET6, UNIX; UNSPEC has none).
        int addressBlock = (family >> 4) switch { 1 => 12, 2 => 36, 3 => 216, _ => 0 };
        if (length < addressBlock)
        {
            // LOCAL's addresses are to be discarded, family and all: a short block is no error there.
            if (!local)
            {
                return ProxyParseResult.Invalid;
            }

            addressBlock = length;
        }

        if (!local)
        {
            // 0x11 TCP over IPv4, 0x21 TCP over IPv6; anything else (UDP, UNIX) keeps the proxy's address.
            int addressLength = family switch { 0x11 => 4, 0x21 => 16, _ => 0 };
            if (addressLength > 0)
            {
                source = new IPEndPoint(new IPAddress(payload[..addressLength]), BinaryPrimitives.ReadUInt16BigEndian(payload[(2 * addressLength)..]));
                destination = new IPEndPoint(new IPAddress(payload[addressLength..(2 * addressLength)]), BinaryPrimitives.ReadUInt16BigEndian(payload[((2 * addressLength) + 2)..]));
            }
        }

        IReadOnlyList<ProxyTlv>? tlvs = null;
        if (length > addressBlock && !TryParseTlvs(payload[addressBlock..], out tlvs))
        {
            return ProxyParseResult.Invalid;
        }

        buffer = buffer.Slice(16 + length);
        header = new ProxyHeader(2, source, destination, tlvs);
        return ProxyParseResult.Parsed;
    }

    /// <summary>
    /// Splits the TLV area (a type byte, a big-endian 16-bit length, the value; repeated to the end) into fields over
    /// one copy of it. A field that runs past the header's end makes the whole header malformed.
    /// </summary>
    private static bool TryParseTlvs(ReadOnlySpan<byte> area, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IReadOnlyList<ProxyTlv>? tlvs)
    {
        tlvs = null;
        byte[] copy = area.ToArray();
        var fields = new List<ProxyTlv>();
        int offset = 0;
        while (offset < copy.Length)
        {
            if (copy.Length - offset < 3)
            {
                return false;
            }

            int valueLength = BinaryPrimitives.ReadUInt16BigEndian(copy.AsSpan(offset + 1));
            if (copy.Length - offset - 3 < valueLength)
            {
                return false;
            }

            fields.Add(new ProxyTlv(copy[offset], copy.AsMemory(offset + 3, valueLength)));
            offset += 3 + valueLength;
        }

        tlvs = fields;
        return true;
    }

    /// <summary>
    /// The spec's strict forms only: IPv4 as four decimal numbers without leading zeros (IPAddress.TryParse would
    /// also take "203.7" or octal "010"), IPv6 without a zone id; and the family the header names.
    /// </summary>
    private static bool TryParseAddress(string text, bool ipv4, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (ipv4)
        {
            string[] octets = text.Split('.');
            if (octets.Length != 4 || !octets.All(o => o.Length is > 0 and <= 3 && o.All(char.IsAsciiDigit) && (o.Length == 1 || o[0] != '0') && int.Parse(o, CultureInfo.InvariantCulture) <= 255))
            {
                return false;
            }
        }
        else if (text.Contains('%', StringComparison.Ordinal) || !text.Contains(':', StringComparison.Ordinal))
        {
            return false;
        }

        return IPAddress.TryParse(text, out address)
            && address.AddressFamily == (ipv4 ? System.Net.Sockets.AddressFamily.InterNetwork : System.Net.Sockets.AddressFamily.InterNetworkV6);
    }

    private static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 0 and <= 65535 && (text.Length == 1 || text[0] != '0');
}
