using System.Buffers;
using System.Text;
using KeyValue.Protocol;

namespace KeyValue.Tests;

public sealed class KeyValueCodecTests
{
    [Fact]
    public void A_GET_reads_back_as_its_opcode_and_key()
    {
        byte[] wire = Requests.Get("user:42");

        Assert.Equal([0x01, 0x00, 0x07, .. "user:42"u8], wire);
        Assert.Equal(KeyValueStatus.Ok, KeyValueRequest.Parse(wire, out KeyValueRequest request, out _));
        Assert.Equal(KeyValueOpcode.Get, request.Opcode);
        Assert.Equal("user:42"u8, request.Key);
    }

    [Fact]
    public void A_SET_reads_back_with_its_expected_version_and_value()
    {
        byte[] wire = Requests.Set("k", "value"u8, expectedVersion: 0x0102);

        Assert.Equal([0x02, 0x00, 0x01, (byte)'k', 0, 0, 0, 0, 0, 0, 0x01, 0x02, .. "value"u8], wire);
        Assert.Equal(KeyValueStatus.Ok, KeyValueRequest.Parse(wire, out KeyValueRequest request, out _));
        Assert.Equal(KeyValueOpcode.Set, request.Opcode);
        Assert.Equal("k"u8, request.Key);
        Assert.Equal(0x0102, request.ExpectedVersion);
        Assert.Equal("value"u8, request.Value);
    }

    [Fact]
    public void A_SET_may_carry_an_empty_value_and_a_key_in_any_script()
    {
        byte[] wire = Requests.Set("ключ-🔑", []);

        Assert.Equal(KeyValueStatus.Ok, KeyValueRequest.Parse(wire, out KeyValueRequest request, out _));
        Assert.Equal("ключ-🔑", Encoding.UTF8.GetString(request.Key));
        Assert.Equal(KeyValueCodec.AnyVersion, request.ExpectedVersion);
        Assert.True(request.Value.IsEmpty);
    }

    [Fact]
    public void A_DELETE_and_a_STATS_read_back()
    {
        Assert.Equal(KeyValueStatus.Ok, KeyValueRequest.Parse(Requests.Delete("k", 7), out KeyValueRequest delete, out _));
        Assert.Equal((KeyValueOpcode.Delete, 7L), (delete.Opcode, delete.ExpectedVersion));
        Assert.Equal("k"u8, delete.Key);

        Assert.Equal([0x04], Requests.Stats());
        Assert.Equal(KeyValueStatus.Ok, KeyValueRequest.Parse(Requests.Stats(), out KeyValueRequest stats, out _));
        Assert.Equal(KeyValueOpcode.Stats, stats.Opcode);
    }

    [Fact]
    public void A_key_of_exactly_the_maximum_length_is_allowed()
    {
        string key = new('k', KeyValueCodec.MaxKeyLength);

        Assert.Equal(KeyValueStatus.Ok, KeyValueRequest.Parse(Requests.Get(key), out KeyValueRequest request, out _));
        Assert.Equal(KeyValueCodec.MaxKeyLength, request.Key.Length);
    }

    [Theory]
    [InlineData("", KeyValueStatus.BadRequest, "empty request")]
    [InlineData("09", KeyValueStatus.UnknownOpcode, "unknown opcode")]
    [InlineData("00 00 01 6b", KeyValueStatus.UnknownOpcode, "unknown opcode")]
    [InlineData("01", KeyValueStatus.BadRequest, "truncated: no key length")]
    [InlineData("01 00", KeyValueStatus.BadRequest, "truncated: no key length")]
    [InlineData("01 00 00", KeyValueStatus.BadRequest, "empty key")]
    [InlineData("01 04 01 6b", KeyValueStatus.BadRequest, "key longer than 1024 bytes")]
    [InlineData("01 00 05 6b 65 79", KeyValueStatus.BadRequest, "truncated: key shorter than its length")]
    [InlineData("01 00 02 c3 28", KeyValueStatus.BadRequest, "key is not valid UTF-8")]
    [InlineData("01 00 01 6b 00", KeyValueStatus.BadRequest, "GET takes only a key")]
    [InlineData("02 00 01 6b 00 00 00 00", KeyValueStatus.BadRequest, "truncated: no expected version")]
    [InlineData("02 00 01 6b ff ff ff ff ff ff ff ff", KeyValueStatus.BadRequest, "negative expected version")]
    [InlineData("03 00 01 6b", KeyValueStatus.BadRequest, "truncated: no expected version")]
    [InlineData("03 00 01 6b 00 00 00 00 00 00 00 00 01", KeyValueStatus.BadRequest, "DELETE takes only a key and a version")]
    [InlineData("04 00", KeyValueStatus.BadRequest, "STATS takes no operand")]
    public void A_malformed_request_parses_to_an_error_status_and_a_reason(string hex, KeyValueStatus status, string reason)
    {
        byte[] wire = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

        Assert.Equal(status, KeyValueRequest.Parse(wire, out _, out string error));
        Assert.Equal(reason, error);
    }

    [Fact]
    public void The_writer_refuses_what_the_parser_would_refuse()
    {
        Assert.Throws<ArgumentException>(() => Requests.Get(""));
        Assert.Throws<ArgumentException>(() => Requests.Get(new string('k', KeyValueCodec.MaxKeyLength + 1)));
        Assert.Throws<ArgumentException>(() => Requests.Get("é".PadLeft(KeyValueCodec.MaxKeyLength, 'k'))); // 1,025 bytes in UTF-8.
        Assert.ThrowsAny<ArgumentException>(() => Requests.Get("lone \ud800 surrogate"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Requests.Set("k", "v"u8, expectedVersion: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => KeyValueCodec.WriteRequest(new byte[4], KeyValueOpcode.Get, "key", 0, default));
    }

    [Fact]
    public void An_answer_reads_back_as_its_status_version_and_body()
    {
        var output = new ArrayBufferWriter<byte>();
        KeyValueCodec.WriteResponse(output, KeyValueStatus.Ok, 0x0A0B, "value"u8);

        byte[] expected = [0x00, 0, 0, 0, 0, 0, 0, 0x0A, 0x0B, .. "value"u8];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
        Assert.True(KeyValueResponse.TryParse(output.WrittenSpan, out KeyValueResponse response));
        Assert.Equal((KeyValueStatus.Ok, 0x0A0BL), (response.Status, response.Version));
        Assert.Equal("value"u8, response.Body);
    }

    [Fact]
    public void An_error_answer_carries_its_reason_and_a_STATS_answer_its_count()
    {
        var error = new ArrayBufferWriter<byte>();
        KeyValueCodec.WriteError(error, KeyValueStatus.BadRequest, "empty key");
        Assert.True(KeyValueResponse.TryParse(error.WrittenSpan, out KeyValueResponse bad));
        Assert.Equal((KeyValueStatus.BadRequest, 0L), (bad.Status, bad.Version));
        Assert.Equal("empty key"u8, bad.Body);

        var stats = new ArrayBufferWriter<byte>();
        KeyValueCodec.WriteStats(stats, 12_345);
        Assert.True(KeyValueResponse.TryParse(stats.WrittenSpan, out KeyValueResponse answer));
        Assert.True(KeyValueCodec.TryReadStats(answer.Body, out long requests));
        Assert.Equal(12_345, requests);
    }

    [Fact]
    public void An_answer_shorter_than_its_header_or_with_a_negative_version_does_not_parse()
    {
        Assert.False(KeyValueResponse.TryParse([0x00, 0, 0, 0, 0, 0, 0, 0], out _));
        Assert.False(KeyValueResponse.TryParse([0x00, 0xFF, 0, 0, 0, 0, 0, 0, 0], out _));
        Assert.False(KeyValueCodec.TryReadStats([0, 0, 0, 1], out _));
    }
}
