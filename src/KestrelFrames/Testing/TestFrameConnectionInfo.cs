using System.Collections.Concurrent;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http.Features;

namespace KestrelFrames.Testing;

/// <summary>
/// A connection as a handler sees it, with no socket behind it: for unit tests of a handler or an
/// <see cref="IFrameConnectionLifecycle"/>. Every property is what the constructor was given; <see cref="Items"/>
/// and <see cref="Features"/> start empty, <see cref="Abort"/> fires <see cref="Aborted"/>, and <see cref="RequestClose"/>
/// is recorded in <see cref="CloseRequested"/>.
/// </summary>
public sealed class TestFrameConnectionInfo : FrameConnectionInfo, IDisposable
{
    private readonly CancellationTokenSource _aborted = new();

    /// <summary>A plain (no TLS, no PROXY header) connection from <paramref name="remoteEndPoint"/>, 127.0.0.1:50000 by default.</summary>
    public TestFrameConnectionInfo(
        string id = "test-connection",
        EndPoint? remoteEndPoint = null,
        EndPoint? localEndPoint = null,
        EndPoint? peerEndPoint = null,
        X509Certificate2? clientCertificate = null,
        SslProtocols tlsProtocol = SslProtocols.None,
        IReadOnlyList<ProxyTlv>? proxyTlvs = null)
    {
        ArgumentNullException.ThrowIfNull(id);
        Id = id;
        RemoteEndPoint = remoteEndPoint ?? new IPEndPoint(IPAddress.Loopback, 50_000);
        LocalEndPoint = localEndPoint ?? new IPEndPoint(IPAddress.Loopback, 9000);
        PeerEndPoint = peerEndPoint ?? RemoteEndPoint;
        ClientCertificate = clientCertificate;
        TlsProtocol = tlsProtocol;
        ProxyTlvs = proxyTlvs ?? [];
    }

    /// <inheritdoc />
    public override string Id { get; }

    /// <inheritdoc />
    public override EndPoint? RemoteEndPoint { get; }

    /// <inheritdoc />
    public override EndPoint? PeerEndPoint { get; }

    /// <inheritdoc />
    public override EndPoint? LocalEndPoint { get; }

    /// <inheritdoc />
    public override IReadOnlyList<ProxyTlv> ProxyTlvs { get; }

    /// <inheritdoc />
    public override X509Certificate2? ClientCertificate { get; }

    /// <inheritdoc />
    public override SslProtocols TlsProtocol { get; }

    /// <inheritdoc />
    public override IFeatureCollection Features { get; } = new FeatureCollection();

    /// <inheritdoc />
    public override ConcurrentDictionary<object, object?> Items { get; } = new();

    /// <inheritdoc />
    public override CancellationToken Aborted => _aborted.Token;

    /// <summary>Fires <see cref="Aborted"/>, as the server does when the client can no longer receive answers.</summary>
    public void Abort() => _aborted.Cancel();

    /// <summary>Whether the code under test called <see cref="RequestClose"/>.</summary>
    public bool CloseRequested { get; private set; }

    /// <inheritdoc />
    public override void RequestClose() => CloseRequested = true;

    /// <inheritdoc />
    public void Dispose() => _aborted.Dispose();
}
