using System.Net;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>A connection as an answer slot sees it, with nothing behind it: slots and rings can be tested alone.</summary>
internal sealed class TestSlotOwner(long maxBufferedBytes = 1024 * 1024) : ISlotOwner
{
    public string ConnectionId => Info.Id;

    public FrameConnectionInfo Info { get; } = new TestConnectionInfo();

    public EndPoint? RemoteEndPoint => new IPEndPoint(IPAddress.Loopback, 40000);

    public EndPoint? PeerEndPoint => RemoteEndPoint;

    public EndPoint? LocalEndPoint => new IPEndPoint(IPAddress.Loopback, 9000);

    public CancellationToken Aborted => CancellationToken.None;

    public BufferBudget Budget { get; } = new(new LiveFrameOptions(new FrameServerOptions { MaxBufferedBytes = maxBufferedBytes }));

    public ResourceLedger Ledger { get; } = new();

    public LargeBufferPool Buffers { get; } = new();
}
