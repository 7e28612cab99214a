using System.Buffers;
using System.Net;
using System.Text;
using CsCheck;
using KestrelFrames.Protocol;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Protocol;

public sealed class ProxyProtocolParserTests
{
    /// <summary>A frame of the protocol proper ("hello"), as a client sends it after the header.</summary>
    private static readonly byte[] s_frame = [0, 0, 0, 5, .. "hello"u8];

    private static readonly IPEndPoint s_source4 = IPEndPoint.Parse("203.0.113.7:5555");
    private static readonly IPEndPoint s_destination4 = IPEndPoint.Parse("192.0.2.1:7000");
    private static readonly IPEndPoint s_source6 = IPEndPoint.Parse("[2001:db8::7]:5555");
    private static readonly IPEndPoint s_destination6 = IPEndPoint.Parse("[2001:db8::1]:7000");

    /// <summary>What <see cref="ProxyHeaders.SomeTlvs"/> holds.</summary>
    private static readonly ProxyTlv[] s_someTlvs = [new(0x01, "fr"u8.ToArray()), new(0x04, new byte[] { 1, 2, 3 })];

    /// <summary>Valid headers, by name, with what they parse to.</summary>
    private static readonly Dictionary<string, (byte[] Bytes, ProxyHeader Expected)> s_valid = new()
    {
        ["v1 TCP4"] = (ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 5555 7000"), new(1, s_source4, s_destination4)),
        ["v1 TCP6"] = (ProxyHeaders.V1("PROXY TCP6 2001:db8::7 2001:db8::1 5555 7000"), new(1, s_source6, s_destination6)),
        ["v1 UNKNOWN"] = (ProxyHeaders.V1("PROXY UNKNOWN"), new(1, null, null)),
        ["v1 UNKNOWN with addresses"] = (ProxyHeaders.V1("PROXY UNKNOWN 2001:db8::7 2001:db8::1 5555 7000"), new(1, null, null)),
        ["v1 of exactly 107 bytes"] = (ProxyHeaders.V1("PROXY UNKNOWN " + new string('x', ProxyProtocolParser.MaxV1Length - 16)), new(1, null, null)),
        ["v1 ports 0 and 65535"] = (ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 0 65535"), new(1, new(s_source4.Address, 0), new(s_destination4.Address, 65535))),
        ["v2 PROXY IPv4"] = (ProxyHeaders.V2Proxy(s_source4, s_destination4), new(2, s_source4, s_destination4)),
        ["v2 PROXY IPv4 with TLVs"] = (ProxyHeaders.V2Proxy(s_source4, s_destination4, ProxyHeaders.SomeTlvs), new(2, s_source4, s_destination4, s_someTlvs)),
        ["v2 PROXY IPv6"] = (ProxyHeaders.V2Proxy(s_source6, s_destination6), new(2, s_source6, s_destination6)),
        ["v2 PROXY IPv6 with TLVs"] = (ProxyHeaders.V2Proxy(s_source6, s_destination6, ProxyHeaders.SomeTlvs), new(2, s_source6, s_destination6, s_someTlvs)),
        ["v2 LOCAL with TLVs"] = (ProxyHeaders.V2(0x20, 0x00, ProxyHeaders.SomeTlvs), new(2, null, null, s_someTlvs)),
        ["v2 PROXY UNIX stream with TLVs"] = (ProxyHeaders.V2(0x21, 0x31, [.. new byte[216], .. ProxyHeaders.SomeTlvs]), new(2, null, null, s_someTlvs)),
        ["v2 LOCAL with a short IPv4 block"] = (ProxyHeaders.V2(0x20, 0x11, new byte[5]), new(2, null, null)),
        ["v2 PROXY IPv4 of the largest length"] = (
            ProxyHeaders.V2Proxy(s_source4, s_destination4, ProxyHeaders.Tlv(0x04, new byte[ProxyProtocolParser.MaxV2PayloadLength - 12 - 3])),
            new(2, s_source4, s_destination4, [new(0x04, new byte[ProxyProtocolParser.MaxV2PayloadLength - 12 - 3])])),
        ["v2 LOCAL"] = (ProxyHeaders.V2(0x20, 0x00, []), new(2, null, null)),
        ["v2 LOCAL with addresses"] = (ProxyHeaders.V2(0x20, 0x11, ProxyHeaders.Addresses(s_source4, s_destination4)), new(2, null, null)),
        ["v2 PROXY UNSPEC"] = (ProxyHeaders.V2(0x21, 0x00, []), new(2, null, null)),
        ["v2 PROXY UDP over IPv4"] = (ProxyHeaders.V2(0x21, 0x12, ProxyHeaders.Addresses(s_source4, s_destination4)), new(2, null, null)),
        ["v2 PROXY UDP over IPv6"] = (ProxyHeaders.V2(0x21, 0x22, ProxyHeaders.Addresses(s_source6, s_destination6)), new(2, null, null)),
        ["v2 PROXY UNIX stream"] = (ProxyHeaders.V2(0x21, 0x31, new byte[216]), new(2, null, null)),
        ["v2 PROXY UNIX datagram"] = (ProxyHeaders.V2(0x21, 0x32, new byte[216]), new(2, null, null)),
    };

    /// <summary>Headers that start like PROXY and break its rules, by name.</summary>
    private static readonly Dictionary<string, byte[]> s_invalid = new()
    {
        ["v1 without CRLF past 107 bytes"] = Encoding.ASCII.GetBytes("PROXY TCP4 203.0.113.7 192.0.2.1 5555 7000 " + new string('x', 80)),
        ["v1 of 108 bytes"] = ProxyHeaders.V1("PROXY UNKNOWN " + new string('x', ProxyProtocolParser.MaxV1Length - 15)),
        ["v1 ending in LF without CR"] = "PROXY TCP4 203.0.113.7 192.0.2.1 5555 7000\n"u8.ToArray(),
        ["v1 source port 99999"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 99999 7000"),
        ["v1 source port 65536"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 65536 7000"),
        ["v1 source port 01"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 01 7000"),
        ["v1 source port -1"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 -1 7000"),
        ["v1 source port +1"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 +1 7000"),
        ["v1 destination port 99999"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 5555 99999"),
        ["v1 destination port 01"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 5555 01"),
        ["v1 TCP4 with an IPv6 source"] = ProxyHeaders.V1("PROXY TCP4 2001:db8::7 192.0.2.1 5555 7000"),
        ["v1 TCP4 with an IPv6 destination"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 2001:db8::1 5555 7000"),
        ["v1 TCP6 with an IPv4 source"] = ProxyHeaders.V1("PROXY TCP6 203.0.113.7 2001:db8::1 5555 7000"),
        ["v1 TCP6 with an IPv4 destination"] = ProxyHeaders.V1("PROXY TCP6 2001:db8::7 192.0.2.1 5555 7000"),
        ["v1 TCP4 with a shorthand address"] = ProxyHeaders.V1("PROXY TCP4 203.7 192.0.2.1 5555 7000"),
        ["v1 TCP4 with a leading zero in an address"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.010 192.0.2.1 5555 7000"),
        ["v1 TCP6 with a zone id"] = ProxyHeaders.V1("PROXY TCP6 fe80::7%1 2001:db8::1 5555 7000"),
        ["v1 with a non-ASCII byte"] = [.. "PROXY TCP4 203.0.113.7 192.0.2.1 5555 7000"u8, 0xC3, 0xA9, .. "\r\n"u8],
        ["v1 with a NUL byte"] = [.. "PROXY TCP4 203.0.113.7\0 192.0.2.1 5555 7000\r\n"u8],
        ["v1 with a tab"] = ProxyHeaders.V1("PROXY TCP4\t203.0.113.7 192.0.2.1 5555 7000"),
        ["v1 with two spaces"] = ProxyHeaders.V1("PROXY TCP4  203.0.113.7 192.0.2.1 5555 7000"),
        ["v1 without the destination port"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 5555"),
        ["v1 with an extra field"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 5555 7000 8000"),
        ["v1 with an unknown protocol"] = ProxyHeaders.V1("PROXY UDP4 203.0.113.7 192.0.2.1 5555 7000"),
        ["v1 with nothing after PROXY"] = ProxyHeaders.V1("PROXY "),
        ["v2 version 1"] = ProxyHeaders.V2(0x11, 0x11, ProxyHeaders.Addresses(s_source4, s_destination4)),
        ["v2 version 3"] = ProxyHeaders.V2(0x31, 0x11, ProxyHeaders.Addresses(s_source4, s_destination4)),
        ["v2 command 2"] = ProxyHeaders.V2(0x22, 0x11, ProxyHeaders.Addresses(s_source4, s_destination4)),
        ["v2 command 15"] = ProxyHeaders.V2(0x2F, 0x11, ProxyHeaders.Addresses(s_source4, s_destination4)),
        ["v2 length over the maximum, fixed part only"] = ProxyHeaders.V2Fixed(0x21, 0x11, ProxyProtocolParser.MaxV2PayloadLength + 1),
        ["v2 length 65535, fixed part only"] = ProxyHeaders.V2Fixed(0x21, 0x11, ushort.MaxValue),
        ["v2 IPv4 address block of 11 bytes"] = ProxyHeaders.V2(0x21, 0x11, ProxyHeaders.Addresses(s_source4, s_destination4).AsSpan(0, 11)),
        ["v2 IPv4 without any address block"] = ProxyHeaders.V2(0x21, 0x11, []),
        ["v2 IPv6 address block of 35 bytes"] = ProxyHeaders.V2(0x21, 0x21, ProxyHeaders.Addresses(s_source6, s_destination6).AsSpan(0, 35)),
        ["v2 IPv6 family with an IPv4 address block"] = ProxyHeaders.V2(0x21, 0x21, ProxyHeaders.Addresses(s_source4, s_destination4)),
        ["v2 with a TLV running past the header's end"] = ProxyHeaders.V2Proxy(s_source4, s_destination4, ProxyHeaders.Tlv(0x05, "id"u8).AsSpan(0, 4)),
        ["v2 with two bytes of a TLV"] = ProxyHeaders.V2Proxy(s_source4, s_destination4, [0x05, 0x00]),
        ["v2 UNIX address block of 215 bytes"] = ProxyHeaders.V2(0x21, 0x31, new byte[215]),
    };

    /// <summary>Bytes a direct client sends, by name: none of them is a PROXY header.</summary>
    private static readonly Dictionary<string, byte[]> s_notProxy = new()
    {
        ["a frame"] = s_frame,
        ["a heartbeat"] = [0, 0, 0, 0],
        ["a single zero byte"] = [0],
        ["a status-flagged header"] = [0x80, 0, 0, 1],
        ["lower-case proxy"] = ProxyHeaders.V1("proxy TCP4 203.0.113.7 192.0.2.1 5555 7000"),
        ["PROXY without its space"] = "PROXYTCP4"u8.ToArray(),
        ["an HTTP request"] = "GET / HTTP/1.1\r\n\r\n"u8.ToArray(),
        ["a TLS ClientHello's start"] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01],
        ["the v2 signature wrong in its last byte"] = [.. ProxyHeaders.V2Signature[..11], 0x0B, 0x21, 0x11, 0x00, 0x0C],
        ["the v2 signature wrong in its first byte"] = [0x0E, .. ProxyHeaders.V2Signature[1..], 0x21, 0x11, 0x00, 0x0C],
    };

    private static readonly Gen<IPEndPoint> s_endPoint4 = Gen.Select(Gen.Byte.Array[4], Gen.Int[0, 65535], (a, p) => new IPEndPoint(new IPAddress(a), p));

    private static readonly Gen<IPEndPoint> s_endPoint6 = Gen.Select(Gen.Byte.Array[16], Gen.Int[0, 65535], (a, p) => new IPEndPoint(new IPAddress(a), p));

    private static readonly Gen<ProxyTlv[]> s_tlvs = Gen.Select(Gen.Byte, Gen.Byte.Array[0, 40], (type, value) => new ProxyTlv(type, value)).Array[0, 4];

    private static readonly Gen<(byte[] Bytes, ProxyHeader Expected)> s_validHeader = Gen.OneOf(
        Gen.Select(s_endPoint4, s_endPoint4, (s, d) => (ProxyHeaders.V1(s, d), new ProxyHeader(1, s, d))),
        Gen.Select(s_endPoint6, s_endPoint6, (s, d) => (ProxyHeaders.V1(s, d), new ProxyHeader(1, s, d))),
        Gen.Select(s_endPoint4, s_endPoint4, s_tlvs, (s, d, t) => (ProxyHeaders.V2Proxy(s, d, Encode(t)), new ProxyHeader(2, s, d, t))),
        Gen.Select(s_endPoint6, s_endPoint6, s_tlvs, (s, d, t) => (ProxyHeaders.V2Proxy(s, d, Encode(t)), new ProxyHeader(2, s, d, t))),
        s_tlvs.Select(t => (ProxyHeaders.V2(0x20, 0x00, Encode(t)), new ProxyHeader(2, null, null, t))));

    /// <summary>Arbitrary bytes, and bytes that start like either version so that the parser goes past its first check.</summary>
    private static readonly Gen<byte[]> s_arbitraryStart = Gen.OneOf(
        Gen.Byte.Array[0, 200],
        Gen.Byte.Array[0, 120].Select(rest => (byte[])[.. "PROXY "u8, .. rest]),
        Gen.Char['\x1F', '\x7F'].Array[0, 120].Select(rest => Encoding.Latin1.GetBytes("PROXY " + new string(rest) + "\r\n")),
        Gen.Select(Gen.OneOf("TCP4 ", "TCP6 ", "UNKNOWN ", "TCP4 1.2.3.4 5.6.7.8 ", "TCP6 ::1 ::2 "), Gen.Char['\x1F', '\x7F'].Array[0, 60],
            (protocol, rest) => Encoding.Latin1.GetBytes("PROXY " + protocol + new string(rest) + "\r\n")),
        Gen.Byte.Array[0, 100].Select(rest => (byte[])[.. ProxyHeaders.V2Signature, .. rest]),
        Gen.Select(Gen.Byte, Gen.Byte, Gen.Int[0, 80], Gen.Byte.Array[0, 100],
            (versionCommand, family, length, rest) => (byte[])[.. ProxyHeaders.V2Fixed(versionCommand, family, length), .. rest]),
        Gen.Select(Gen.Int[0, 2], Gen.OneOf<byte>(0x00, 0x11, 0x12, 0x21, 0x22, 0x31), Gen.Int[0, 60], Gen.Byte.Array[0, 80],
            (command, family, length, rest) => (byte[])[.. ProxyHeaders.V2Fixed((byte)(0x20 | command), family, length), .. rest]));
    public static TheoryData<string> ValidHeaders => new(s_valid.Keys);

    public static TheoryData<string> InvalidHeaders => new(s_invalid.Keys);

    public static TheoryData<string> NotProxyBytes => new(s_notProxy.Keys);

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void A_valid_header_is_parsed_and_the_buffer_advances_exactly_past_it_leaving_the_frame_bytes(string name)
    {
        var (header, expected) = s_valid[name];
        var buffer = new ReadOnlySequence<byte>([.. header, .. s_frame]);

        Assert.Equal(ProxyParseResult.Parsed, ProxyProtocolParser.TryParse(ref buffer, out ProxyHeader parsed));
        AssertSameHeader(expected, parsed);
        Assert.Equal(s_frame, buffer.ToArray());
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void A_valid_header_without_anything_after_it_leaves_an_empty_buffer(string name)
    {
        var (header, expected) = s_valid[name];
        var buffer = new ReadOnlySequence<byte>(header);

        Assert.Equal(ProxyParseResult.Parsed, ProxyProtocolParser.TryParse(ref buffer, out ProxyHeader parsed));
        AssertSameHeader(expected, parsed);
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void A_valid_header_fed_byte_by_byte_is_incomplete_until_its_last_byte_and_then_parsed(string name)
    {
        var (header, expected) = s_valid[name];
        for (int length = 1; length < header.Length; length++)
        {
            var prefix = new ReadOnlySequence<byte>(header, 0, length);
            ReadOnlySequence<byte> buffer = prefix;

            ProxyParseResult result = ProxyProtocolParser.TryParse(ref buffer, out _);

            Assert.True(result == ProxyParseResult.Incomplete, $"{length} of {header.Length} bytes: {result}");
            AssertUntouched(prefix, buffer);
        }

        var whole = new ReadOnlySequence<byte>(header);
        Assert.Equal(ProxyParseResult.Parsed, ProxyProtocolParser.TryParse(ref whole, out ProxyHeader parsed));
        AssertSameHeader(expected, parsed);
    }

    [Theory]
    [MemberData(nameof(ValidHeaders))]
    public void A_valid_header_split_into_one_byte_segments_parses_as_if_contiguous(string name)
    {
        var (header, expected) = s_valid[name];
        ReadOnlySequence<byte> buffer = TestSequence.Chunked([.. header, .. s_frame], [1]);

        Assert.Equal(ProxyParseResult.Parsed, ProxyProtocolParser.TryParse(ref buffer, out ProxyHeader parsed));
        AssertSameHeader(expected, parsed);
        Assert.Equal(s_frame, buffer.ToArray());
    }

    [Theory]
    [MemberData(nameof(InvalidHeaders))]
    public void A_malformed_header_is_invalid_and_the_buffer_is_untouched(string name)
    {
        byte[] bytes = s_invalid[name];
        var original = new ReadOnlySequence<byte>([.. bytes, .. s_frame]);
        ReadOnlySequence<byte> buffer = original;

        Assert.Equal(ProxyParseResult.Invalid, ProxyProtocolParser.TryParse(ref buffer, out ProxyHeader header));
        AssertUntouched(original, buffer);
        Assert.Equal(default, header);
    }

    [Theory]
    [MemberData(nameof(InvalidHeaders))]
    public void A_prefix_of_a_malformed_header_is_never_mistaken_for_a_parsed_header_or_for_frame_bytes(string name)
    {
        byte[] bytes = s_invalid[name];
        for (int length = 1; length < bytes.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, length);

            ProxyParseResult result = ProxyProtocolParser.TryParse(ref buffer, out _);

            Assert.True(result is ProxyParseResult.Incomplete or ProxyParseResult.Invalid, $"{length} of {bytes.Length} bytes: {result}");
        }
    }

    [Fact]
    public void A_v1_header_still_without_a_line_feed_at_106_bytes_is_incomplete_and_at_107_is_invalid()
    {
        byte[] line = Encoding.ASCII.GetBytes("PROXY UNKNOWN " + new string('x', 200));
        var almost = new ReadOnlySequence<byte>(line, 0, ProxyProtocolParser.MaxV1Length - 1);
        var full = new ReadOnlySequence<byte>(line, 0, ProxyProtocolParser.MaxV1Length);

        Assert.Equal(ProxyParseResult.Incomplete, ProxyProtocolParser.TryParse(ref almost, out _));
        Assert.Equal(ProxyParseResult.Invalid, ProxyProtocolParser.TryParse(ref full, out _));
    }

    [Fact]
    public void A_v2_header_announcing_more_than_the_maximum_is_invalid_from_its_16_fixed_bytes_without_waiting_for_the_rest()
    {
        var buffer = new ReadOnlySequence<byte>(ProxyHeaders.V2Fixed(0x21, 0x11, ProxyProtocolParser.MaxV2PayloadLength + 1));

        Assert.Equal(ProxyParseResult.Invalid, ProxyProtocolParser.TryParse(ref buffer, out _));
    }

    [Fact]
    public void The_v2_header_builder_writes_the_bytes_the_specification_gives()
    {
        // Signature, version 2 PROXY, TCP over IPv4, 12 bytes: 203.0.113.7 -> 192.0.2.1, 5555 -> 7000.
        byte[] expected =
        [
            0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
            0x21, 0x11, 0x00, 0x0C,
            203, 0, 113, 7, 192, 0, 2, 1, 0x15, 0xB3, 0x1B, 0x58,
        ];

        Assert.Equal(expected, ProxyHeaders.V2Proxy(s_source4, s_destination4));
    }

    [Theory]
    [MemberData(nameof(NotProxyBytes))]
    public void Bytes_that_are_not_a_proxy_header_are_not_proxy_and_the_buffer_is_untouched(string name)
    {
        var original = new ReadOnlySequence<byte>(s_notProxy[name]);
        ReadOnlySequence<byte> buffer = original;

        Assert.Equal(ProxyParseResult.NotProxy, ProxyProtocolParser.TryParse(ref buffer, out ProxyHeader header));
        AssertUntouched(original, buffer);
        Assert.Equal(default, header);
    }

    [Fact]
    public void Random_bytes_never_throw_and_advance_the_buffer_only_when_parsed() =>
        s_arbitraryStart.Select(Gen.Int[1, 16].Array[1, 8]).Sample((bytes, chunks) =>
        {
            var original = new ReadOnlySequence<byte>(bytes);
            ReadOnlySequence<byte> buffer = original;
            ProxyParseResult result = ProxyProtocolParser.TryParse(ref buffer, out ProxyHeader header);

            if (result == ProxyParseResult.Parsed)
            {
                long consumed = original.Length - buffer.Length;
                Assert.InRange(consumed, 1, bytes.Length);
                Assert.Equal(bytes[(int)consumed..], buffer.ToArray());
            }
            else
            {
                AssertUntouched(original, buffer);
                Assert.Equal(default, header);
            }

            // However the bytes are cut into segments, the answer is the same.
            ReadOnlySequence<byte> segmented = TestSequence.Chunked(bytes, chunks);
            Assert.Equal(result, ProxyProtocolParser.TryParse(ref segmented, out ProxyHeader segmentedHeader));
            Assert.Equal(header, segmentedHeader);
            Assert.Equal(buffer.ToArray(), segmented.ToArray());
        }, iter: 20_000);

    [Fact]
    public void Random_valid_headers_parse_to_their_addresses_in_any_segmentation_and_any_prefix_is_incomplete() =>
        s_validHeader.Select(Gen.Byte.Array[0, 64], Gen.Int[1, 16].Array[1, 8]).Sample((generated, trailing, chunks) =>
        {
            byte[] bytes = [.. generated.Bytes, .. trailing];
            ReadOnlySequence<byte> buffer = TestSequence.Chunked(bytes, chunks);

            Assert.Equal(ProxyParseResult.Parsed, ProxyProtocolParser.TryParse(ref buffer, out ProxyHeader header));
            AssertSameHeader(generated.Expected, header);
            Assert.Equal(trailing, buffer.ToArray());

            for (int length = 1; length < generated.Bytes.Length; length++)
            {
                ReadOnlySequence<byte> prefix = TestSequence.Chunked(generated.Bytes[..length], chunks);
                Assert.Equal(ProxyParseResult.Incomplete, ProxyProtocolParser.TryParse(ref prefix, out _));
            }
        }, iter: 1_000);

    private static void AssertUntouched(ReadOnlySequence<byte> original, ReadOnlySequence<byte> buffer)
    {
        Assert.Equal(original.Start, buffer.Start);
        Assert.Equal(original.Length, buffer.Length);
    }

    /// <summary>Equal headers: the same version and addresses, and the same TLVs, in order, by content.</summary>
    private static void AssertSameHeader(ProxyHeader expected, ProxyHeader actual)
    {
        Assert.Equal(expected with { Tlvs = null }, actual with { Tlvs = null });
        Assert.Equal(Describe(expected.Tlvs), Describe(actual.Tlvs));
    }

    private static string[] Describe(IReadOnlyList<ProxyTlv>? tlvs) =>
        tlvs?.Select(t => $"{t.Type:x2}:{Convert.ToHexString(t.Value.Span)}").ToArray() ?? [];

    private static byte[] Encode(ProxyTlv[] tlvs) => tlvs.SelectMany(t => ProxyHeaders.Tlv(t.Type, t.Value.Span)).ToArray();
}
