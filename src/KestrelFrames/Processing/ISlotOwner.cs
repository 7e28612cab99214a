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

    EndPoint? RemoteEndPoint { get; }

    CancellationToken Aborted { get; }

    /// <summary>The server-wide budget a request's payload bytes were reserved from.</summary>
    BufferBudget Budget { get; }

    ResourceLedger Ledger { get; }
}
