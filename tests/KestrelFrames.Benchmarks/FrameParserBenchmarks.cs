using System.Buffers;
using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using KestrelFrames.Protocol;

namespace KestrelFrames.Benchmarks;

/// <summary>Parsing a receive buffer full of frames, as the read loop does per batch.</summary>
[MemoryDiagnoser]
public class FrameParserBenchmarks
{
    private ReadOnlySequence<byte> _buffer;

    [Params(64, 16 * 1024)]
    public int PayloadSize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // About 1 MiB of back-to-back frames.
        int frames = Math.Max(1, (1024 * 1024) / (PayloadSize + FrameHeader.Size));
        var bytes = new byte[frames * (PayloadSize + FrameHeader.Size)];
        for (int i = 0; i < frames; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i * (PayloadSize + FrameHeader.Size)), (uint)PayloadSize);
        }

        _buffer = new ReadOnlySequence<byte>(bytes);
    }

    /// <summary>Bytes parsed per invocation: divide by the mean time for GB/s.</summary>
    [Benchmark]
    public long ParseAll()
    {
        ReadOnlySequence<byte> buffer = _buffer;
        long payload = 0;
        while (FrameParser.TryParse(ref buffer, 1024 * 1024, out ReadOnlySequence<byte> frame) == FrameParseResult.Frame)
        {
            payload += frame.Length;
        }

        return payload;
    }
}
