using System.Collections.Concurrent;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http.Features;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>A connection as a handler sees it, with nothing behind it.</summary>
internal sealed class TestConnectionInfo(string id = "test-connection") : FrameConnectionInfo
{
    public override string Id => id;

    public override EndPoint? RemoteEndPoint => new IPEndPoint(IPAddress.Loopback, 40000);

    public override EndPoint? PeerEndPoint => RemoteEndPoint;

    public override EndPoint? LocalEndPoint => new IPEndPoint(IPAddress.Loopback, 9000);

    public override IReadOnlyList<ProxyTlv> ProxyTlvs => [];

    public override X509Certificate2? ClientCertificate => null;

    public override SslProtocols TlsProtocol => SslProtocols.None;

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override ConcurrentDictionary<object, object?> Items { get; } = new();

    public override CancellationToken Aborted => CancellationToken.None;
}
