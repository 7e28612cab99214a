using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using KestrelFrames.Connections;
using KestrelFrames.Processing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Benchmarks;

/// <summary>
/// A full request through the connection handler, with no sockets: frames written into an in-memory pipe are
/// parsed, queued on the worker pool, echoed and written back, in batches of <see cref="Batch"/> pipelined
/// requests. Allocated bytes are per request: the echo path is meant to show 0 B.
/// </summary>
[MemoryDiagnoser]
public class EchoPipelineBenchmarks
{
    private const int Batch = 64;
    private const int PayloadSize = 64;
    private const int AnswerBytes = Batch * (4 + PayloadSize);

    private readonly byte[] _requests = new byte[Batch * (4 + PayloadSize)];
    private ServiceProvider _services = null!;
    private Pipe _toServer = null!;
    private Pipe _toClient = null!;
    private Task _connection = null!;

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < Batch; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(_requests.AsSpan(i * (4 + PayloadSize)), PayloadSize);
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddFrameServer(new ConfigurationBuilder().Build());
        _services = services.BuildServiceProvider();
        _services.GetRequiredService<WorkerPool>().StartAsync(CancellationToken.None).GetAwaiter().GetResult();

        _toServer = new Pipe(new PipeOptions(useSynchronizationContext: false));
        _toClient = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var context = new DefaultConnectionContext("bench", new DuplexPipe(_toServer.Reader, _toClient.Writer), new DuplexPipe(_toClient.Reader, _toServer.Writer));
        _connection = new FrameConnection(context, _services.GetRequiredService<FrameServices>()).RunAsync();
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task PipelinedEcho()
    {
        await _toServer.Writer.WriteAsync(_requests);
        long received = 0;
        while (received < AnswerBytes)
        {
            ReadResult result = await _toClient.Reader.ReadAsync();
            long take = Math.Min(result.Buffer.Length, AnswerBytes - received);
            received += take;
            _toClient.Reader.AdvanceTo(result.Buffer.GetPosition(take));
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _toServer.Writer.Complete();
        _connection.GetAwaiter().GetResult();
        _services.Dispose();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
