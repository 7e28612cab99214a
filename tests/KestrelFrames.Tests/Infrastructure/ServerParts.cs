using System.Buffers;
using System.IO.Pipelines;
using KestrelFrames.Connections;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>
/// The server's real services without a host, a transport or a running connection, on a fake clock, for unit tests
/// that build one primitive themselves. <see cref="NewConnection"/> gives a <see cref="FrameConnection"/> that is
/// constructed and never run: all that answer slots need of it (its id, the ledger, the buffer budget).
/// </summary>
internal sealed class ServerParts : IDisposable
{
    private readonly ServiceProvider _services;

    /// <param name="settings">Configuration keys as an operator writes them, e.g. <c>Frames:MaxBufferedBytes</c>.</param>
    public ServerParts(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var collection = new ServiceCollection();
        collection.AddFakeLogging();
        collection.AddMetrics();
        collection.AddFrameServer(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        collection.Replace(ServiceDescriptor.Singleton<TimeProvider>(Time));
        _services = collection.BuildServiceProvider();
    }

    public FakeTimeProvider Time { get; } = new();

    public FrameServices Services => _services.GetRequiredService<FrameServices>();

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

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
