using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using KestrelFrames.Protocol;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Connections;

public sealed class FuzzTests
{
    private const int MaxFrameSize = 1024;

    [Fact]
    public void The_parser_never_throws_on_random_bytes_and_always_advances_exactly_past_the_frames_it_reports()
    {
        var random = new Random(20240611);
        for (int run = 0; run < 5000; run++)
        {
            byte[] bytes = RandomStream(random, maxLength: random.Next(2) == 0 ? 16 : 600);
            int maxFrameSize = random.Next(4) switch
            {
                0 => random.Next(0, 8),
                1 => int.MaxValue,
                _ => random.Next(0, 700),
            };
            ReadOnlySequence<byte> buffer = Split(bytes, random);
            int offset = 0;
            while (true)
            {
                ReadOnlySequence<byte> before = buffer;
                FrameParseResult result = FrameParser.TryParse(ref buffer, maxFrameSize, out ReadOnlySequence<byte> payload);
                (FrameParseResult expected, int length) = Model(bytes.AsSpan(offset), maxFrameSize);
                string at = $"run {run}, offset {offset} of {bytes.Length}, max {maxFrameSize}";

                Assert.True(Enum.IsDefined(result), at);
                Assert.True(expected == result, $"{at}: expected {expected}, parsed {result}");
                if (result != FrameParseResult.Frame)
                {
                    // Nothing consumed: the same bytes are there for the next read (or the error).
                    Assert.True(before.Start.Equals(buffer.Start) && before.Length == buffer.Length, at);
                    if (buffer.Length >= FrameHeader.Size)
                    {
                        Assert.True(FrameCodec.TryReadHeader(buffer, out FrameHeader peeked), at);
                        Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset)) & int.MaxValue, peeked.PayloadLength);
                    }

                    break;
                }

                Assert.Equal(length, payload.Length);
                Assert.True(bytes.AsSpan(offset + FrameHeader.Size, length).SequenceEqual(payload.ToArray()), at);
                Assert.Equal(before.Length - FrameHeader.Size - length, buffer.Length);
                Assert.True(before.GetPosition(FrameHeader.Size + length).Equals(buffer.Start), at);
                offset += FrameHeader.Size + length;
            }
        }
    }

    [Fact]
    public async Task Random_garbage_on_live_connections_gets_only_the_answers_the_protocol_defines_then_a_close()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:MaxFrameSize"] = "1024" });
        using var closures = new ConnectionClosures(server);
        var random = new Random(7);
        byte[][] inputs = [.. Enumerable.Range(0, 300).Select(_ => Garbage(random))];

        await Parallel.ForEachAsync(
            Enumerable.Range(0, inputs.Length),
            new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (i, _) =>
            {
                List<Frame> expected = Answers(inputs[i]);
                using FrameTestClient client = await server.ConnectAsync();
                if (inputs[i].Length > 0)
                {
                    await client.SendRawAsync(inputs[i]);
                }

                client.Socket.Shutdown(SocketShutdown.Send);
                List<Frame> received = await ReadUntilClosedAsync(client);

                string input = Convert.ToHexString(inputs[i].AsSpan(0, Math.Min(inputs[i].Length, 16)));
                Assert.True(
                    received.Count == expected.Count,
                    $"input {i} ({inputs[i].Length} bytes, starting {input}): expected {expected.Count} answers, got {string.Join(", ", received)}");
                for (int f = 0; f < expected.Count; f++)
                {
                    Assert.Equal(expected[f].IsStatus, received[f].IsStatus);
                    if (expected[f].IsStatus)
                    {
                        Assert.True(Enum.IsDefined(received[f].Status), $"input {i}: undefined status {received[f].Payload[0]}");
                        Assert.Equal(expected[f].Status, received[f].Status);
                    }
                    else
                    {
                        Assert.Equal(expected[f].Payload, received[f].Payload);
                    }
                }
            });

        await closures.WaitAsync(inputs.Length);
        List<Frame> all = [.. inputs.SelectMany(Answers)];
        Assert.True(all.Any(f => f.IsStatus && f.Status == FrameStatus.ProtocolError) && all.Any(f => f.IsStatus && f.Status == FrameStatus.FrameTooLarge)
            && all.Any(f => !f.IsStatus) && inputs.Any(b => b.Length == 0), "the seed no longer covers every outcome");
        string text = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(all.Count(f => f.IsStatus && f.Status == FrameStatus.ProtocolError),
            MetricsScrape.Sample(text, "frames_protocol_errors_total{reason=\"protocol_error\"}"));
        Assert.Equal(all.Count(f => f.IsStatus && f.Status == FrameStatus.FrameTooLarge),
            MetricsScrape.Sample(text, "frames_protocol_errors_total{reason=\"frame_too_large\"}"));
        Assert.Equal(all.Count(f => !f.IsStatus && f.Payload.Length > 0),
            MetricsScrape.Sample(text, "frames_requests_total{outcome=\"ok\"}"));
        Assert.Equal(inputs.Count(b => b.Length == 0), MetricsScrape.Sample(text, "frames_connections_probe_total"));
        Assert.Equal(0, MetricsScrape.Sample(text, "frames_active_connections"));

        using (HttpResponseMessage ready = await server.Http.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        using FrameTestClient after = await server.ConnectAsync();
        await after.SendFrameAsync("still serving"u8);
        Assert.Equal("still serving"u8.ToArray(), (await after.ReadRequiredFrameAsync()).Payload);
    }

    /// <summary>What <see cref="FrameParser.TryParse"/> must report for <paramref name="bytes"/>, by the wire format alone.</summary>
    private static (FrameParseResult Result, int Length) Model(ReadOnlySpan<byte> bytes, int maxFrameSize)
    {
        if (bytes.Length < FrameHeader.Size)
        {
            return (FrameParseResult.Incomplete, 0);
        }

        uint header = BinaryPrimitives.ReadUInt32BigEndian(bytes);
        if (header >= FrameHeader.StatusFlag)
        {
            return (FrameParseResult.ProtocolError, 0);
        }

        if (header > (uint)maxFrameSize)
        {
            return (FrameParseResult.FrameTooLarge, 0);
        }

        return bytes.Length - FrameHeader.Size < header ? (FrameParseResult.Incomplete, 0) : (FrameParseResult.Frame, (int)header);
    }

    /// <summary>
    /// The answers the echo server owes a client that sent <paramref name="input"/> and half-closed: an echo per whole
    /// frame in order, then ProtocolError or FrameTooLarge for a bad header, or nothing for a trailing partial frame.
    /// </summary>
    private static List<Frame> Answers(byte[] input)
    {
        var answers = new List<Frame>();
        int offset = 0;
        while (true)
        {
            (FrameParseResult result, int length) = Model(input.AsSpan(offset), MaxFrameSize);
            switch (result)
            {
                case FrameParseResult.Frame:
                    answers.Add(new Frame(false, input.AsSpan(offset + FrameHeader.Size, length).ToArray()));
                    offset += FrameHeader.Size + length;
                    continue;
                case FrameParseResult.ProtocolError:
                    answers.Add(new Frame(true, [(byte)FrameStatus.ProtocolError]));
                    return answers;
                case FrameParseResult.FrameTooLarge:
                    answers.Add(new Frame(true, [(byte)FrameStatus.FrameTooLarge]));
                    return answers;
                default:
                    return answers;
            }
        }
    }

    /// <summary>Every frame until the server closes; each one parsed whole, or the read fails the test.</summary>
    private static async Task<List<Frame>> ReadUntilClosedAsync(FrameTestClient client)
    {
        var frames = new List<Frame>();
        while (true)
        {
            Frame? frame;
            try
            {
                frame = await client.ReadFrameAsync();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // A close with our bytes unread is a reset; whatever came before it has been read (see FrameTestClients.IsClosedAsync).
                return frames;
            }

            if (frame is null)
            {
                return frames;
            }

            frames.Add(frame);
        }
    }

    /// <summary>Up to 2000 bytes: pure noise, or whole frames followed by noise, a high-bit header, a huge header or a cut-off frame.</summary>
    private static byte[] Garbage(Random random)
    {
        var bytes = new List<byte>();
        int kind = random.Next(6);
        if (random.Next(50) == 0)
        {
            return []; // A TCP probe.
        }

        if (kind == 0)
        {
            return RandomBytes(random, random.Next(0, 2001));
        }

        for (int frames = random.Next(0, 5); frames > 0; frames--)
        {
            bytes.AddRange(FrameTestClient.Encode(RandomBytes(random, random.Next(0, 3) == 0 ? 0 : random.Next(1, 400))));
        }

        switch (kind)
        {
            case 1:
                bytes.AddRange(RandomBytes(random, random.Next(0, 500)));
                break;
            case 2:
                bytes.AddRange(Header(FrameHeader.StatusFlag | (uint)random.Next(0, 2000)));
                bytes.AddRange(RandomBytes(random, random.Next(0, 300)));
                break;
            case 3:
                bytes.AddRange(Header((uint)random.NextInt64(MaxFrameSize + 1, (long)int.MaxValue + 1)));
                bytes.AddRange(RandomBytes(random, random.Next(0, 300)));
                break;
            case 4:
                // A frame cut short: announced, then only part of it.
                int length = random.Next(1, MaxFrameSize + 1);
                bytes.AddRange(Header((uint)length));
                bytes.AddRange(RandomBytes(random, random.Next(0, length)));
                break;
            default:
                // Random bytes, each with a good chance of being a small header's first byte.
                bytes.AddRange(RandomBytes(random, random.Next(0, 500)).Select(b => b < 128 ? (byte)0 : b));
                break;
        }

        return [.. bytes.Take(2000)];
    }

    private static byte[] RandomStream(Random random, int maxLength)
    {
        if (random.Next(2) == 0)
        {
            return RandomBytes(random, random.Next(0, maxLength + 1));
        }

        // Frames with small lengths, so that Frame results are common; then noise.
        var bytes = new List<byte>();
        while (bytes.Count < maxLength && random.Next(5) != 0)
        {
            bytes.AddRange(FrameTestClient.Encode(RandomBytes(random, random.Next(0, 12))));
        }

        bytes.AddRange(RandomBytes(random, random.Next(0, 8)));
        return [.. bytes];
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Header(uint value)
    {
        var header = new byte[FrameHeader.Size];
        BinaryPrimitives.WriteUInt32BigEndian(header, value);
        return header;
    }

    /// <summary>The bytes as a sequence of one to five segments, so that headers and payloads straddle segments.</summary>
    private static ReadOnlySequence<byte> Split(byte[] bytes, Random random)
    {
        int cuts = random.Next(0, 5);
        if (cuts == 0 || bytes.Length < 2)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        int[] points = [.. Enumerable.Range(0, cuts).Select(_ => random.Next(1, bytes.Length)).Distinct().Order()];
        return TestSequence.CutAt(bytes, points);
    }
}
