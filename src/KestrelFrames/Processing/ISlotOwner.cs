using System.Net;
using KestrelFrames.Primitives;

namespace KestrelFrames.Processing;

/// <summary>
/// What an answer slot needs from the connection that owns it: who the request came from, the token that fires
/// when the connection is aborted, and where its buffers are accounted. An interface, so processing depends on no
/// connection type and a slot can be tested without one.
/// </summary>
internal interface ISlotOwner
{
    string ConnectionId { get; }

    /// <summary>The connection as the handler sees it, through <see cref="FrameContext.Connection"/>.</summary>
    FrameConnectionInfo Info { get; }

    /// <summary>The client: the address a trusted PROXY header carried, else the socket's peer.</summary>
    EndPoint? RemoteEndPoint { get; }

    /// <summary>The socket's peer: the load balancer when a PROXY header named the client.</summary>
    EndPoint? PeerEndPoint { get; }

    EndPoint? LocalEndPoint { get; }

    CancellationToken Aborted { get; }

    /// <summary>The server-wide budget a request's payload bytes were reserved from.</summary>
    BufferBudget Budget { get; }

    ResourceLedger Ledger { get; }

    /// <summary>Where the request and answer buffers come from (<see cref="LargeBufferPool"/>).</summary>
    LargeBufferPool Buffers { get; }
}
