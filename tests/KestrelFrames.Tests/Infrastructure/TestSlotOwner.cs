using System.Net;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using KestrelFrames.Testing;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>A connection as an answer slot sees it, with nothing behind it: slots and rings can be tested alone.</summary>
internal sealed class TestSlotOwner(long maxBufferedBytes = 1024 * 1024) : ISlotOwner
{
    public string ConnectionId => Info.Id;

    // The package's own test connection: its Aborted never fires here, nothing disposes it.
    public FrameConnectionInfo Info { get; } = new TestFrameConnectionInfo(remoteEndPoint: new IPEndPoint(IPAddress.Loopback, 40000));

    public EndPoint? RemoteEndPoint => Info.RemoteEndPoint;

    public EndPoint? PeerEndPoint => Info.PeerEndPoint;

    public EndPoint? LocalEndPoint => Info.LocalEndPoint;

    public CancellationToken Aborted => CancellationToken.None;

    public BufferBudget Budget { get; } = new(new LiveFrameOptions(new FrameServerOptions { MaxBufferedBytes = maxBufferedBytes }));

    public ResourceLedger Ledger { get; } = new();

    public LargeBufferPool Buffers { get; } = new();
}
