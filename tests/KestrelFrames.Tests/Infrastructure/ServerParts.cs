using System.Buffers;
using System.IO.Pipelines;
using KestrelFrames.Connections;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// The server's real services without a host, a transport or a running connection, on a fake clock, for unit tests
/// that build one primitive themselves. <see cref="NewConnection"/> gives a <see cref="FrameConnection"/> that is
/// constructed and never run: all that answer slots need of it (its id, the ledger, the buffer budget).
/// </summary>
internal sealed class ServerParts : IDisposable, IAsyncDisposable
{
    private readonly ServiceProvider _services;

    /// <param name="settings">Configuration keys as an operator writes them, e.g. <c>Frames:MaxBufferedBytes</c>.</param>
    /// <param name="services">Changes to the services after the server's own, e.g. a handler.</param>
    public ServerParts(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddFakeLogging();
        collection.AddMetrics();
        collection.AddFrameServer(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        collection.Replace(ServiceDescriptor.Singleton<TimeProvider>(Time));
        services?.Invoke(collection);
        _services = collection.BuildServiceProvider();
    }

    public FakeTimeProvider Time { get; } = new();

    public IServiceProvider Provider => _services;

    public FrameServices Services => _services.GetRequiredService<FrameServices>();

    public FakeLogCollector Logs => _services.GetFakeLogCollector();

    public ResourceLedger Ledger => Services.Ledger;

    public BufferBudget Budget => Services.Budget;

    /// <summary>A connection over an in-memory pipe pair that nothing reads or writes; its loops never run.</summary>
    public FrameConnection NewConnection(string connectionId = "unit")
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var context = new DefaultConnectionContext(
            connectionId,
            new DuplexPipe(toServer.Reader, toClient.Writer),
            new DuplexPipe(toClient.Reader, toServer.Writer));
        return new FrameConnection(context, Services);
    }

    /// <summary>
    /// Fills <paramref name="slot"/> with a request as the read loop does: its length reserved from the budget first,
    /// which the slot's <see cref="FrameWorkItem.Reset"/> gives back.
    /// </summary>
    public void SetRequest(FrameWorkItem slot, ReadOnlySpan<byte> payload)
    {
        if (!Budget.TryReserve(payload.Length))
        {
            throw new InvalidOperationException($"The budget has no room for {payload.Length} bytes.");
        }

        slot.SetRequest(new ReadOnlySequence<byte>(payload.ToArray()), Time.GetTimestamp());
    }

    public void Dispose() => _services.Dispose();

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
