using System.Buffers;
using KestrelFrames.Client.Framing;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Client;

public sealed class FrameWireTests
{
    [Fact]
    public void A_request_is_written_as_a_big_endian_length_then_the_payload()
    {
        var output = new ArrayBufferWriter<byte>();

        int written = FrameWire.WriteFrame(output, "hi"u8);
        FrameWire.WriteFrame(output, []);

        Assert.Equal(6, written);
        Assert.Equal(new byte[] { 0, 0, 0, 2, (byte)'h', (byte)'i', 0, 0, 0, 0 }, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Answers_and_status_frames_are_read_one_at_a_time_across_segments()
    {
        byte[] bytes = [0, 0, 0, 2, (byte)'h', (byte)'i', 0x80, 0, 0, 3, 0x01, (byte)'o', (byte)'k', 0, 0];
        ReadOnlySequence<byte> buffer = Split(bytes, 1, 5, 7);

        Assert.Equal(InboundReadResult.Frame, FrameWire.TryRead(ref buffer, 1024, out InboundFrame answer, out _));
        Assert.False(answer.IsStatus);
        Assert.Equal("hi"u8.ToArray(), answer.Payload.ToArray());

        Assert.Equal(InboundReadResult.Frame, FrameWire.TryRead(ref buffer, 1024, out InboundFrame status, out _));
        Assert.True(status.IsStatus);
        Assert.Equal(0x01, status.StatusCode);

        Assert.Equal(InboundReadResult.Incomplete, FrameWire.TryRead(ref buffer, 1024, out _, out _));
        Assert.Equal(2, buffer.Length); // Half a header stays for the next read.
    }

    [Fact]
    public void A_header_above_the_limit_is_refused_before_its_payload_arrives()
    {
        var buffer = new ReadOnlySequence<byte>([0, 0, 4, 1]);

        Assert.Equal(InboundReadResult.TooLarge, FrameWire.TryRead(ref buffer, 1024, out _, out uint length));
        Assert.Equal(1025u, length);
        Assert.Equal(4, buffer.Length);
    }

    private static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts) => TestSequence.CutAt(bytes, cuts);
}
