using System.Buffers;
using System.Net;

namespace KestrelFrames;

/// <summary>
/// One request as a handler sees it. The server reuses the instance for later requests of the same connection,
/// so nothing here may be kept after <see cref="IFrameHandler.HandleAsync"/> completes.
/// </summary>
public abstract class FrameContext
{
    /// <summary>The request payload.</summary>
    public abstract ReadOnlyMemory<byte> Request { get; }

    /// <summary>Where the handler writes the answer's payload; writing nothing answers with an empty frame.</summary>
    public abstract IBufferWriter<byte> Response { get; }

    /// <summary>
    /// Answers with the request's own payload, without copying it: the server writes <see cref="Request"/> straight
    /// to the client. The answer is then fixed: writing to <see cref="Response"/> before or after this call throws.
    /// </summary>
    public abstract void RespondWithRequest();

    /// <summary>
    /// The connection the request arrived on: its endpoints, PROXY and TLS details, and <see cref="FrameConnectionInfo.Items"/>
    /// for the handler's per-connection state. Unlike this context, it may be kept for the connection's life.
    /// </summary>
    public abstract FrameConnectionInfo Connection { get; }

    /// <summary>The transport's id of the connection the request arrived on (<see cref="FrameConnectionInfo.Id"/>).</summary>
    public abstract string ConnectionId { get; }

    /// <summary>The client's address (<see cref="FrameConnectionInfo.RemoteEndPoint"/>): the PROXY header's source behind a balancer.</summary>
    public abstract EndPoint? RemoteEndPoint { get; }
}
