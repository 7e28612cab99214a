using System.Buffers;
using BenchmarkDotNet.Attributes;
using KestrelFrames.Protocol;

namespace KestrelFrames.Benchmarks;

/// <summary>Writing answers and status frames into a reused buffer writer.</summary>
[MemoryDiagnoser]
public class FrameWriterBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(64 * 1024);
    private readonly byte[] _payload = new byte[64];

    [Benchmark]
    public int WriteFrame()
    {
        _output.ResetWrittenCount();
        FrameCodec.WriteFrame(_output, _payload);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int WriteStatus()
    {
        _output.ResetWrittenCount();
        StatusReason.WriteStatus(_output, FrameStatus.Busy);
        return _output.WrittenCount;
    }
}
