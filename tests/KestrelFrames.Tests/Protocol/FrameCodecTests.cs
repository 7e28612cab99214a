using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using KestrelFrames.Protocol;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Protocol;

public sealed class FrameCodecTests
{
    public static TheoryData<FrameStatus> AllStatuses => new(Enum.GetValues<FrameStatus>());

    [Theory]
    [InlineData(0, new byte[] { 0x00, 0x00, 0x00, 0x00 })]
    [InlineData(1, new byte[] { 0x00, 0x00, 0x00, 0x01 })]
    [InlineData(258, new byte[] { 0x00, 0x00, 0x01, 0x02 })]
    [InlineData(0x01_02_03, new byte[] { 0x00, 0x01, 0x02, 0x03 })]
    public void WriteFrame_writes_a_big_endian_length_then_the_payload(int length, byte[] expectedHeader)
    {
        var payload = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();
        var output = new ArrayBufferWriter<byte>();

        FrameCodec.WriteFrame(output, payload);

        Assert.Equal([.. expectedHeader, .. payload], output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Frames_written_back_to_back_follow_each_other_without_gaps()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameCodec.WriteFrame(output, [0xA1, 0xA2]);
        FrameCodec.WriteFrame(output, []);
        FrameCodec.WriteFrame(output, [0xC1]);

        byte[] expected = [0, 0, 0, 2, 0xA1, 0xA2, 0, 0, 0, 0, 0, 0, 0, 1, 0xC1];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteHeader_announces_the_largest_length_without_setting_the_status_bit()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameCodec.WriteHeader(output, FrameHeader.MaxPayloadLength);

        Assert.Equal(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteHeader_rejects_a_negative_length_and_a_missing_output()
    {
        var output = new ArrayBufferWriter<byte>();

        Assert.Throws<ArgumentOutOfRangeException>(() => FrameCodec.WriteHeader(output, -1));
        Assert.Equal(0, output.WrittenCount);
        Assert.Throws<ArgumentNullException>(() => FrameCodec.WriteHeader(null!, 0));
        Assert.Throws<ArgumentNullException>(() => FrameCodec.WriteStatus(null!, FrameStatus.Busy, []));
    }

    [Fact]
    public void WriteStatus_sets_the_high_bit_on_the_length_then_writes_the_code_and_the_utf8_reason()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameCodec.WriteStatus(output, FrameStatus.HandlerError, "déjà"u8);

        // Length 1 + 6: "déjà" is four characters but six UTF-8 bytes.
        byte[] expected = [0x80, 0x00, 0x00, 0x07, 0x02, .. "déjà"u8.ToArray()];
        Assert.Equal(expected, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void WriteStatus_with_an_empty_reason_writes_only_the_code()
    {
        var output = new ArrayBufferWriter<byte>();

        FrameCodec.WriteStatus(output, FrameStatus.ShuttingDown, []);

        Assert.Equal(new byte[] { 0x80, 0x00, 0x00, 0x01, 0x21 }, output.WrittenSpan.ToArray());
    }

    [Theory]
    [MemberData(nameof(AllStatuses))]
    public void Every_status_has_a_specific_non_empty_utf8_reason(FrameStatus status)
    {
        var reason = StatusReason.For(status).ToArray();

        Assert.NotEmpty(reason);
        Assert.NotEqual("unknown", Encoding.UTF8.GetString(reason));
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        Assert.Equal(reason, strict.GetBytes(strict.GetString(reason)));
    }

    [Fact]
    public void Every_status_has_a_different_reason()
    {
        var reasons = Enum.GetValues<FrameStatus>().Select(s => Encoding.UTF8.GetString(StatusReason.For(s))).ToList();

        Assert.Equal(reasons.Count, reasons.Distinct().Count());
    }

    [Fact]
    public void An_undefined_status_code_falls_back_to_unknown() =>
        Assert.Equal("unknown", Encoding.UTF8.GetString(StatusReason.For((FrameStatus)0x7F)));

    [Theory]
    [MemberData(nameof(AllStatuses))]
    public void WriteStatus_without_a_reason_writes_the_standard_reason(FrameStatus status)
    {
        var output = new ArrayBufferWriter<byte>();

        StatusReason.WriteStatus(output, status);

        var reason = StatusReason.For(status).ToArray();
        var written = output.WrittenSpan.ToArray();
        Assert.Equal(FrameHeader.Size + 1 + reason.Length, written.Length);
        Assert.Equal(FrameHeader.StatusFlag | (uint)(1 + reason.Length), BinaryPrimitives.ReadUInt32BigEndian(written));
        Assert.Equal((byte)status, written[FrameHeader.Size]);
        Assert.Equal(reason, written[(FrameHeader.Size + 1)..]);
    }

    [Fact]
    public void A_written_frame_parses_back_to_its_payload_and_a_status_frame_is_refused_from_a_client()
    {
        var output = new ArrayBufferWriter<byte>();
        FrameCodec.WriteFrame(output, "hello"u8);
        StatusReason.WriteStatus(output, FrameStatus.Busy);
        var buffer = new ReadOnlySequence<byte>(output.WrittenMemory);

        Assert.Equal(FrameParseResult.Frame, FrameParser.TryParse(ref buffer, 1024, out var payload));
        Assert.Equal("hello"u8.ToArray(), payload.ToArray());
        Assert.Equal(FrameParseResult.ProtocolError, FrameParser.TryParse(ref buffer, 1024, out _));
    }

    [Fact]
    public void A_client_request_is_written_as_a_big_endian_length_then_the_payload()
    {
        var output = new ArrayBufferWriter<byte>();

        int written = FrameCodec.WriteFrame(output, "hi"u8);
        FrameCodec.WriteFrame(output, []);

        Assert.Equal(6, written);
        Assert.Equal(new byte[] { 0, 0, 0, 2, (byte)'h', (byte)'i', 0, 0, 0, 0 }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Answers_and_status_frames_are_read_one_at_a_time_across_segments()
    {
        byte[] bytes = [0, 0, 0, 2, (byte)'h', (byte)'i', 0x80, 0, 0, 3, 0x01, (byte)'o', (byte)'k', 0, 0];
        ReadOnlySequence<byte> buffer = TestSequence.CutAt(bytes, [1, 5, 7]);

        Assert.Equal(FrameReadResult.Frame, FrameCodec.TryRead(ref buffer, 1024, out FrameHeader answer, out ReadOnlySequence<byte> payload));
        Assert.False(answer.IsStatus);
        Assert.Equal("hi"u8.ToArray(), payload.ToArray());

        Assert.Equal(FrameReadResult.Frame, FrameCodec.TryRead(ref buffer, 1024, out FrameHeader status, out payload));
        Assert.True(status.IsStatus);
        Assert.True(FrameCodec.TryReadStatus(payload, out FrameStatus code));
        Assert.Equal(FrameStatus.Busy, code);

        Assert.Equal(FrameReadResult.Incomplete, FrameCodec.TryRead(ref buffer, 1024, out _, out _));
        Assert.Equal(2, buffer.Length); // Half a header stays for the next read.
    }

    [Fact]
    public void A_header_above_the_limit_is_refused_before_its_payload_arrives()
    {
        var buffer = new ReadOnlySequence<byte>([0, 0, 4, 1]);

        Assert.Equal(FrameReadResult.TooLarge, FrameCodec.TryRead(ref buffer, 1024, out FrameHeader header, out _));
        Assert.Equal(1025u, header.PayloadLength);
        Assert.Equal(4, buffer.Length);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 2, (byte)'h', (byte)'i', 9 }, 1024)]
    [InlineData(new byte[] { 0x80, 0, 0, 1, 0x21 }, 1024)]
    [InlineData(new byte[] { 0, 0, 4, 1 }, 1024)]
    [InlineData(new byte[] { 0, 0, 0, 9, 1, 2 }, 1024)]
    [InlineData(new byte[] { 0, 0 }, 1024)]
    public void The_span_reader_and_the_sequence_reader_agree(byte[] bytes, int maxPayloadLength)
    {
        var sequence = new ReadOnlySequence<byte>(bytes);

        FrameReadResult fromSequence = FrameCodec.TryRead(ref sequence, maxPayloadLength, out FrameHeader sequenceHeader, out ReadOnlySequence<byte> sequencePayload);
        FrameReadResult fromSpan = FrameCodec.TryRead((ReadOnlySpan<byte>)bytes, maxPayloadLength, out FrameHeader spanHeader, out ReadOnlySpan<byte> spanPayload);

        Assert.Equal(fromSequence, fromSpan);
        Assert.Equal(sequenceHeader, spanHeader);
        Assert.Equal(sequencePayload.ToArray(), spanPayload.ToArray());
    }
}
