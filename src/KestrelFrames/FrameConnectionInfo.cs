using System.Collections.Concurrent;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http.Features;

namespace KestrelFrames;

/// <summary>
/// The connection a request arrived on: who the client is, what the balancer and TLS said about it, and the
/// handler's own state for it. One instance per connection, the same for all its requests, from
/// <see cref="IFrameConnectionLifecycle.OnConnectedAsync"/> to <see cref="IFrameConnectionLifecycle.OnClosingAsync"/>.
/// Requests of one connection may run at the same time, on different workers: <see cref="Items"/> is thread-safe,
/// and what a handler keeps in it must be too.
/// </summary>
public abstract class FrameConnectionInfo
{
    /// <summary>The transport's id of the connection, as Kestrel's logs and scopes name it.</summary>
    public abstract string Id { get; }

    /// <summary>The client: the source a trusted PROXY protocol header carried, else the socket's peer.</summary>
    public abstract EndPoint? RemoteEndPoint { get; }

    /// <summary>The socket's peer: the load balancer when a PROXY header named the client, else the client itself.</summary>
    public abstract EndPoint? PeerEndPoint { get; }

    /// <summary>The server's address the client connected to.</summary>
    public abstract EndPoint? LocalEndPoint { get; }

    /// <summary>
    /// The type-length-value fields of the connection's PROXY protocol v2 header (AWS and Azure put the endpoint
    /// or link id there, HAProxy the TLS details it terminated), in order; empty without one.
    /// </summary>
    public abstract IReadOnlyList<ProxyTlv> ProxyTlvs { get; }

    /// <summary>The certificate the client presented in the TLS handshake; null without TLS or without one.</summary>
    public abstract X509Certificate2? ClientCertificate { get; }

    /// <summary>The TLS version negotiated, <see cref="SslProtocols.None"/> on a plain connection.</summary>
    public abstract SslProtocols TlsProtocol { get; }

    /// <summary>Kestrel's connection features, for what the properties above do not cover.</summary>
    public abstract IFeatureCollection Features { get; }

    /// <summary>
    /// The handler's per-connection state (a session, a login, counters), created on first use and dropped with the
    /// connection. Concurrent, because requests of one connection run at once: <c>GetOrAdd</c> creates a value once.
    /// </summary>
    public abstract ConcurrentDictionary<object, object?> Items { get; }

    /// <summary>Fires when the client can no longer receive answers (it left, reset, or a write timed out).</summary>
    public abstract CancellationToken Aborted { get; }

    /// <summary>
    /// Ends the connection gracefully, as a drain does: the server reads no further request, answers every request
    /// it has read (the one calling this too), sends <c>ShuttingDown</c> and closes without a reset. A client resends
    /// elsewhere what it sent after that: none of it ran. For a client the application will not keep (a failed
    /// login, a session that is over). Safe from any thread, more than once; once the connection is ending, it
    /// changes nothing. <see cref="IFrameConnectionLifecycle.OnClosingAsync"/> is then told
    /// <see cref="FrameCloseReason.ApplicationRequested"/>.
    /// </summary>
    public abstract void RequestClose();
}
