using System.IO.Pipelines;
using KestrelFrames.Connections;
using KestrelFrames.Processing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// One <see cref="FrameConnection"/> with the server's real services over an in-memory pipe pair: no socket, no
/// host, a fake clock and a log collector. The test is the client: it writes to <see cref="ToServer"/> and reads
/// <see cref="FromServer"/>. <paramref name="transport"/> may wrap the server's side, to make it fail.
/// </summary>
internal sealed class InMemoryConnection : IAsyncDisposable
{
    private readonly ServerParts _parts;
    private readonly Pipe _toServer = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _toClient = new(new PipeOptions(useSynchronizationContext: false));

    public InMemoryConnection(Func<IDuplexPipe, IDuplexPipe>? transport = null, Action<IServiceCollection>? services = null)
    {
        _parts = new ServerParts(services: services);
        _parts.Provider.GetRequiredService<WorkerPool>().StartAsync(CancellationToken.None).GetAwaiter().GetResult();

        IDuplexPipe serverSide = new DuplexPipe(_toServer.Reader, _toClient.Writer);
        var context = new DefaultConnectionContext("in-memory", transport?.Invoke(serverSide) ?? serverSide, new DuplexPipe(_toClient.Reader, _toServer.Writer));
        Running = new FrameConnection(context, Services).RunAsync();
    }

    public FakeTimeProvider Time => _parts.Time;

    public FrameServices Services => _parts.Services;

    public FakeLogCollector Logs => _parts.Logs;

    /// <summary>What the connection took and has not given back.</summary>
    public ResourceLeaks Leaks => new(_parts.Provider);

    public PipeWriter ToServer => _toServer.Writer;

    public PipeReader FromServer => _toClient.Reader;

    /// <summary>The connection's own task: completes when it has closed and given everything back.</summary>
    public Task Running { get; }

    public async ValueTask DisposeAsync()
    {
        await ToServer.CompleteAsync();
        await Running.WaitAsync(TimeSpan.FromSeconds(30));
        await _parts.DisposeAsync();
    }
}
