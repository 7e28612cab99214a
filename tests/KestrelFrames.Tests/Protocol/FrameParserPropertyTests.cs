using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using CsCheck;
using KestrelFrames.Protocol;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Protocol;

public class FrameParserPropertyTests
{
    private const int DefaultMaxFrameSize = 1024 * 1024;

    // Empty heartbeats, small frames and frames of up to ~2000 bytes.
    private static readonly Gen<byte[]> s_payload = Gen.Frequency(
        (1, (IGen<byte[]>)Gen.Const(Array.Empty<byte>())),
        (3, Gen.Byte.Array[1, 300]),
        (1, Gen.Byte.Array[301, 2000]));

    private static readonly Gen<byte[][]> s_frames = s_payload.Array[0, 20];

    /// <summary>How a stream of <paramref name="total"/> bytes is cut up: sizes are used in turn, cycling.</summary>
    private static Gen<int[]> Chunks(int total) => Gen.OneOf(
        Gen.Const(new[] { 1 }),
        Gen.Const(new[] { Math.Max(1, total) }),
        Gen.Int[1, 16].Array[1, 32],
        Gen.Int[1, Math.Max(1, total)].Array[1, 32]);

    private static readonly Gen<(byte[][] Frames, int[] Chunks)> s_framesInChunks =
        s_frames.SelectMany(frames => Chunks(Encode(frames).Length).Select(chunks => (frames, chunks)));

    [Fact]
    public Task Frames_fed_through_a_pipe_in_random_splits_parse_to_exactly_the_frames_sent() =>
        s_framesInChunks.SampleAsync(async (frames, chunks) =>
        {
            var outcome = await FeedThroughPipeAsync(Encode(frames), chunks, DefaultMaxFrameSize);

            Assert.Equal(FrameParseResult.Incomplete, outcome.Result);
            Assert.Equal(frames, outcome.Payloads);
            Assert.Empty(outcome.Unconsumed);
        }, iter: 200);

    [Fact]
    public Task A_frame_over_a_random_maximum_is_rejected_as_its_header_arrives_and_nothing_before_it_is_lost() =>
        s_framesInChunks.Select(Gen.Int[0, 2100], (t, max) => (t.Frames, t.Chunks, max)).SampleAsync(async (frames, chunks, max) =>
        {
            var stream = Encode(frames);
            var outcome = await FeedThroughPipeAsync(stream, chunks, max);

            var firstTooLarge = Array.FindIndex(frames, f => f.Length > max);
            if (firstTooLarge < 0)
            {
                Assert.Equal(FrameParseResult.Incomplete, outcome.Result);
                Assert.Equal(frames, outcome.Payloads);
                Assert.Empty(outcome.Unconsumed);
                return;
            }

            Assert.Equal(FrameParseResult.FrameTooLarge, outcome.Result);
            Assert.Equal(frames[..firstTooLarge], outcome.Payloads);

            // Rejected in the very read that completed the oversize frame's header, not later.
            var headerStart = frames[..firstTooLarge].Sum(f => FrameHeader.Size + f.Length);
            var headerEnd = headerStart + FrameHeader.Size;
            Assert.InRange(headerEnd, outcome.WrittenBeforeLastChunk + 1, outcome.Written);

            // Nothing of the oversize frame was consumed: the buffer still starts at its header.
            Assert.Equal(stream[headerStart..outcome.Written], outcome.Unconsumed);
        }, iter: 200);

    [Fact]
    public void Frames_split_across_random_buffer_segments_parse_to_exactly_the_frames_sent() =>
        s_framesInChunks.Sample((frames, chunks) =>
        {
            var stream = Encode(frames);
            var buffer = Segmented(stream, chunks);

            var parsed = new List<byte[]>();
            while (FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var payload) == FrameParseResult.Frame)
            {
                parsed.Add(payload.ToArray());
            }

            Assert.Equal(frames, parsed);
            Assert.True(buffer.IsEmpty);
        }, iter: 500);

    [Theory]
    [InlineData(new[] { 1, 3, 258 })]
    [InlineData(new[] { 2, 2, 258 })]
    [InlineData(new[] { 3, 1, 258 })]
    [InlineData(new[] { 1, 1, 1, 1, 1, 1, 1, 1 })]
    [InlineData(new[] { 0, 2, 0, 2, 258 })]
    public void A_header_straddling_buffer_segments_is_read_in_big_endian_order(int[] segmentLengths)
    {
        // 258 = 0x0102: a header read in the wrong order or from the wrong segment announces another length.
        var payload = Enumerable.Range(0, 258).Select(i => (byte)i).ToArray();
        var stream = Encode([payload, [42]]);
        var buffer = Segmented(stream, [.. segmentLengths, stream.Length]);
        Assert.False(buffer.IsSingleSegment);

        Assert.Equal(FrameParseResult.Frame, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var first));
        Assert.Equal(payload, first.ToArray());
        Assert.Equal(FrameParseResult.Frame, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var second));
        Assert.Equal(new byte[] { 42 }, second.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData(0x0010_0001u, nameof(FrameParseResult.FrameTooLarge))]
    [InlineData(0x8000_0001u, nameof(FrameParseResult.ProtocolError))]
    [InlineData(0x0010_0000u, nameof(FrameParseResult.Incomplete))]
    public void A_straddling_header_is_validated_without_consuming_anything(uint header, string result)
    {
        FrameParseResult expected = Enum.Parse<FrameParseResult>(result);
        var bytes = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, header);
        var buffer = Segmented(bytes, [1, 2, 1]);
        var original = buffer;

        Assert.Equal(expected, FrameParser.TryParse(ref buffer, DefaultMaxFrameSize, out var payload));
        Assert.True(payload.IsEmpty);
        Assert.Equal(original.Start, buffer.Start);
        Assert.Equal(original.Length, buffer.Length);
    }

    private sealed record Outcome(
        List<byte[]> Payloads, FrameParseResult Result, int WrittenBeforeLastChunk, int Written, byte[] Unconsumed);

    // Writes the stream into a real pipe chunk by chunk, parsing after every flush as the connection does (consume the
    // frames, examine the rest), until the end or the first result other than Frame or Incomplete.
    private static async Task<Outcome> FeedThroughPipeAsync(byte[] stream, int[] chunks, int maxFrameSize)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
        var payloads = new List<byte[]>();
        var written = 0;
        for (var i = 0; written < stream.Length; i++)
        {
            var size = Math.Min(chunks[i % chunks.Length], stream.Length - written);
            pipe.Writer.Write(stream.AsSpan(written, size));
            await pipe.Writer.FlushAsync();
            written += size;

            var result = await pipe.Reader.ReadAsync();
            var buffer = result.Buffer;
            FrameParseResult parsed;
            while ((parsed = FrameParser.TryParse(ref buffer, maxFrameSize, out var payload)) == FrameParseResult.Frame)
            {
                payloads.Add(payload.ToArray());
            }

            var unconsumed = buffer.ToArray();
            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
            if (parsed != FrameParseResult.Incomplete)
            {
                return new Outcome(payloads, parsed, written - size, written, unconsumed);
            }

            // The rest was examined: no read may complete until more bytes arrive.
            Assert.False(pipe.Reader.TryRead(out _));
        }

        await pipe.Writer.CompleteAsync();
        var last = await pipe.Reader.ReadAsync();
        Assert.True(last.IsCompleted);
        var rest = last.Buffer.ToArray();
        pipe.Reader.AdvanceTo(last.Buffer.End);
        await pipe.Reader.CompleteAsync();
        return new Outcome(payloads, FrameParseResult.Incomplete, written, written, rest);
    }

    private static byte[] Encode(byte[][] frames) =>
        [.. frames.SelectMany(f => new[] { (byte)(f.Length >> 24), (byte)(f.Length >> 16), (byte)(f.Length >> 8), (byte)f.Length }.Concat(f))];

    /// <summary>Cuts <paramref name="bytes"/> into segments of the given lengths (cycling; zero makes an empty segment).</summary>
    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int[] lengths) => TestSequence.Chunked(bytes, lengths);
}
