using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using KestrelFrames.Observability;
using Prometheus;

namespace KestrelFrames.Benchmarks;

/// <summary>
/// The process_* series' cost per scrape with 10,000 descriptors open (one per connection), against listing
/// /proc/self/fd as prometheus-net's own collector does.
/// </summary>
[MemoryDiagnoser]
public class ProcessCollectorBenchmarks
{
    private readonly List<Socket> _sockets = [];
    private CollectorRegistry _registry = null!;

    [GlobalSetup]
    public void Setup()
    {
        for (int i = 0; i < 10_000; i++)
        {
            _sockets.Add(new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        }

        _registry = Metrics.NewCustomRegistry();
        ProcessCollector.Register(_registry);
    }

    [GlobalCleanup]
    public void Cleanup() => _sockets.ForEach(socket => socket.Dispose());

    [Benchmark(Baseline = true)]
    public long ListDescriptors() => Directory.EnumerateFileSystemEntries("/proc/self/fd").LongCount();

    [Benchmark]
    public Task CollectProcessSeries() => _registry.CollectAndExportAsTextAsync(Stream.Null);
}
