using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using KestrelFrames.Protocol;

namespace KestrelFrames.Tests.Protocol;

public class FrameParserTests
{
    private const int DefaultMaxFrameSize = 1024 * 1024;

    [Fact]
    public void A_header_announcing_more_than_the_maximum_is_rejected_before_the_payload_arrives()
    {
        var buffer = Sequence(0x00, 0x00, 0x03, 0xE9); // 1001, and none of its payload
        var original = buffer;

        Assert.Equal(FrameParseResult.FrameTooLarge, FrameParser.TryParse(ref buffer, 1000, out var payload));
        Assert.True(payload.IsEmpty);
        Assert.Equal(original.Start, buffer.Start);
        Assert.Equal(original.Length, buffer.Length);
    }

    [Theory]
    [InlineData(0x80, 0x00, 0x00, 0x00)]
    [InlineData(0x80, 0x00, 0x00, 0x05)]
    [InlineData(0xFF, 0xFF, 0xFF, 0xFF)]
    public void A_header_with_the_high_bit_set_is_a_protocol_error_even_under_the_largest_maximum(
        byte b0, byte b1, byte b2, byte b3)
    {
        var buffer = Sequence(b0, b1, b2, b3, 1, 2, 3, 4, 5);
        var original = buffer;

        Assert.Equal(FrameParseResult.ProtocolError, FrameParser.TryParse(ref buffer, int.MaxValue, out var payload));
        Assert.True(payload.IsEmpty);
        Assert.Equal(original.Start, buffer.Start);
        Assert.Equal(original.Length, buffer.Length);
    }

    [Fact]
    public void An_http_request_read_as_a_length_is_too_large_for_the_default_maximum()
    {
        // "GET " is 0x47455420, about 1.2 billion: a stray HTTP client must be turned away, not buffered.
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n"));

        Assert.Equal(FrameParseResult.FrameTooLarge, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out _));
        Assert.Equal(16, buffer.Length);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0x00 })]
    [InlineData(new byte[] { 0x00, 0x00 })]
    [InlineData(new byte[] { 0x00, 0x00, 0x00 })]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF })]
    public void Fewer_than_four_bytes_are_incomplete(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.Equal(FrameParseResult.Incomplete, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var payload));
        Assert.True(payload.IsEmpty);
        Assert.Equal(bytes.Length, buffer.Length);
    }

    [Fact]
    public void A_header_with_only_part_of_its_payload_is_incomplete_and_consumes_nothing()
    {
        var buffer = Sequence(0x00, 0x00, 0x00, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8, 9); // 10 announced, 9 present
        var original = buffer;

        Assert.Equal(FrameParseResult.Incomplete, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var payload));
        Assert.True(payload.IsEmpty);
        Assert.Equal(original.Start, buffer.Start);
        Assert.Equal(original.Length, buffer.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(65_536)]
    public void A_frame_of_exactly_the_maximum_size_is_accepted_and_one_byte_more_is_not(int maxFrameSize)
    {
        var exact = Frame(new byte[maxFrameSize]);
        Assert.Equal(FrameParseResult.Frame, FrameParser.TryParse(ref exact, maxFrameSize, out var payload));
        Assert.Equal(maxFrameSize, payload.Length);
        Assert.True(exact.IsEmpty);

        var over = Frame(new byte[maxFrameSize + 1]);
        Assert.Equal(FrameParseResult.FrameTooLarge, FrameParser.TryParse(ref over, maxFrameSize, out _));
        Assert.Equal(FrameHeader.Size + maxFrameSize + 1, over.Length);
    }

    [Fact]
    public void A_zero_length_frame_parses_as_an_empty_payload_and_consumes_its_header()
    {
        var buffer = Sequence(0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2A);

        Assert.Equal(FrameParseResult.Frame, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var heartbeat));
        Assert.True(heartbeat.IsEmpty);
        Assert.Equal(5, buffer.Length);

        Assert.Equal(FrameParseResult.Frame, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var next));
        Assert.Equal(new byte[] { 0x2A }, next.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void Back_to_back_frames_parse_in_order_and_the_payload_is_a_slice_of_the_buffer()
    {
        var buffer = Sequence(0x00, 0x00, 0x00, 0x02, 0xA1, 0xA2, 0x00, 0x00, 0x00, 0x01, 0xB1, 0x00, 0x00);
        var original = buffer;

        Assert.Equal(FrameParseResult.Frame, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var first));
        Assert.Equal(original.GetPosition(FrameHeader.Size), first.Start);
        Assert.Equal(new byte[] { 0xA1, 0xA2 }, first.ToArray());
        Assert.Equal(FrameParseResult.Frame, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var second));
        Assert.Equal(new byte[] { 0xB1 }, second.ToArray());
        Assert.Equal(FrameParseResult.Incomplete, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out _));
        Assert.Equal(original.GetPosition(11), buffer.Start);
        Assert.Equal(2, buffer.Length);
    }

    [Fact]
    public async Task A_frame_arriving_one_byte_at_a_time_over_a_pipe_parses_without_spinning()
    {
        var pipe = new Pipe(new PipeOptions(useSynchronizationContext: false));
        byte[] wire = [0x00, 0x00, 0x01, 0x00, .. new byte[256]]; // 256 = 0x0100: the low header byte is zero
        wire[^1] = 0x7F;
        var frames = new List<byte[]>();

        for (var i = 0; i < wire.Length; i++)
        {
            // Everything so far was examined, so the read must wait for the next byte rather than return at once.
            Assert.False(pipe.Reader.TryRead(out _), $"TryRead returned data before byte {i} was written");
            var read = pipe.Reader.ReadAsync();
            Assert.False(read.IsCompleted, $"ReadAsync completed before byte {i} was written");

            pipe.Writer.Write(wire.AsSpan(i, 1));
            await pipe.Writer.FlushAsync();
            var result = await read;
            Assert.Equal(i + 1 - frames.Sum(f => FrameHeader.Size + f.Length), result.Buffer.Length);

            var buffer = result.Buffer;
            var parsed = FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var payload);
            if (parsed == FrameParseResult.Frame)
            {
                frames.Add(payload.ToArray());
            }
            else
            {
                Assert.Equal(FrameParseResult.Incomplete, parsed);
                Assert.Equal(result.Buffer.Start, buffer.Start);
            }

            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }

        var only = Assert.Single(frames);
        Assert.Equal(wire[FrameHeader.Size..], only);
        Assert.False(pipe.Reader.TryRead(out _), "nothing is left to read once the frame was consumed");
        await pipe.Writer.CompleteAsync();
        await pipe.Reader.CompleteAsync();
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x00, 0x01 }, false, 0)]
    [InlineData(new byte[] { 0x00, 0x01, 0x02, 0x03 }, true, 0x01_02_03)]
    [InlineData(new byte[] { 0x00, 0x00, 0x00, 0x0A, 1, 2, 3 }, true, 10)]
    public void The_length_of_an_incomplete_frame_can_be_peeked_once_its_header_has_arrived(
        byte[] bytes, bool expected, int expectedLength)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);

        Assert.Equal(FrameParseResult.Incomplete, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out _));
        Assert.Equal(expected, FrameCodec.TryReadHeader(buffer, out FrameHeader header));
        Assert.Equal((uint)expectedLength, header.PayloadLength);
    }

    private static ReadOnlySequence<byte> Sequence(params byte[] bytes) => new(bytes);

    private static ReadOnlySequence<byte> Frame(byte[] payload)
    {
        var bytes = new byte[FrameHeader.Size + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, payload.Length);
        payload.CopyTo(bytes, FrameHeader.Size);
        return new ReadOnlySequence<byte>(bytes);
    }
}
