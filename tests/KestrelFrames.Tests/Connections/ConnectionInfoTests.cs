using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Connections;

/// <summary>What a handler can know about the connection a request arrived on (FrameContext.Connection).</summary>
public sealed class ConnectionInfoTests : IDisposable
{
    private static readonly IPEndPoint s_client = IPEndPoint.Parse("203.0.113.7:5555");
    private static readonly IPEndPoint s_balancer = IPEndPoint.Parse("192.0.2.1:7000");

    private readonly TestCertificate _certificate = new();

    /// <summary>The connection each request saw, by its payload.</summary>
    private readonly ConcurrentDictionary<string, FrameConnectionInfo> _seen = new();

    [Fact]
    public async Task Every_request_of_a_connection_sees_the_same_connection_with_its_end_points()
    {
        await using var server = TestFrameServer.Start(services: Recording());
        using var client = await server.ConnectAsync();

        await EchoAsync(client, "first");
        await EchoAsync(client, "second");

        FrameConnectionInfo connection = _seen["first"];
        Assert.Same(connection, _seen["second"]);
        Assert.Equal(client.Socket.LocalEndPoint, connection.RemoteEndPoint);
        Assert.Equal(client.Socket.LocalEndPoint, connection.PeerEndPoint);
        Assert.Equal(server.FramesEndPoint, connection.LocalEndPoint);
        Assert.False(string.IsNullOrEmpty(connection.Id));
        Assert.Empty(connection.ProxyTlvs);
        Assert.Null(connection.ClientCertificate);
        Assert.Equal(SslProtocols.None, connection.TlsProtocol);
        Assert.NotNull(connection.Features);
    }

    [Fact]
    public async Task Items_keep_one_connections_state_across_its_requests_and_only_its_own()
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use((frame, _) =>
        {
            // Requests of one connection may run at once: the count must survive that, as a session's would.
            var count = (StrongBox<int>)frame.Connection.Items.GetOrAdd("count", static _ => new StrongBox<int>())!;
            int n = Interlocked.Increment(ref count.Value);
            frame.Response.Write(Encoding.ASCII.GetBytes(n.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return ValueTask.CompletedTask;
        }));
        using var one = await server.ConnectAsync();
        using var other = await server.ConnectAsync();

        await one.SendRawAsync([.. FrameTestClient.Encode("a"u8), .. FrameTestClient.Encode("b"u8), .. FrameTestClient.Encode("c"u8)]);
        string[] counts = [Text(await one.ReadRequiredFrameAsync()), Text(await one.ReadRequiredFrameAsync()), Text(await one.ReadRequiredFrameAsync())];
        await other.SendFrameAsync("a"u8);

        Assert.Equal(["1", "2", "3"], counts.Order());
        Assert.Equal("1", Text(await other.ReadRequiredFrameAsync()));
    }

    [Fact]
    public async Task Behind_a_balancer_the_handler_sees_the_client_the_balancer_and_the_headers_tlvs()
    {
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:ProxyProtocol:Mode"] = "Optional", ["Frames:ProxyProtocol:TrustedProxies:0"] = "127.0.0.1" },
            Recording());
        using var client = await server.ConnectAsync();

        byte[] awsEndpointId = [0x01, .. "vpce-0123"u8];
        await client.SendRawAsync(ProxyHeaders.V2Proxy(s_client, s_balancer, [.. ProxyHeaders.Tlv(0x05, "req-42"u8), .. ProxyHeaders.Tlv(0xEA, awsEndpointId)]));
        await EchoAsync(client, "proxied");

        FrameConnectionInfo connection = _seen["proxied"];
        Assert.Equal(s_client, connection.RemoteEndPoint);
        Assert.Equal(client.Socket.LocalEndPoint, connection.PeerEndPoint);
        Assert.Collection(
            connection.ProxyTlvs,
            tlv => Assert.Equal((0x05, "req-42"), (tlv.Type, Encoding.ASCII.GetString(tlv.Value.Span))),
            tlv => Assert.Equal((0xEA, Convert.ToHexString(awsEndpointId)), (tlv.Type, Convert.ToHexString(tlv.Value.Span))));
    }

    [Fact]
    public async Task Over_tls_the_handler_sees_the_protocol_and_the_clients_certificate()
    {
        using var clientCertificate = new TestCertificate();
        var settings = _certificate.FramesTlsSettings();
        settings["Kestrel:Endpoints:Frames:ClientCertificateMode"] = "RequireCertificate";
        await using var server = TestFrameServer.Start(settings, services =>
        {
            Recording()(services);
            // The test's certificates are self-signed: trust any, as a server pinning its clients would check its own way.
            services.Configure<KestrelServerOptions>(kestrel => kestrel.ConfigureHttpsDefaults(https => https.AllowAnyClientCertificate()));
        });
        using var client = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, _certificate.Certificate, clientCertificate: clientCertificate.Certificate);

        await EchoAsync(client, "tls");

        FrameConnectionInfo connection = _seen["tls"];
        Assert.Equal(clientCertificate.Certificate.Thumbprint, connection.ClientCertificate?.Thumbprint);
        Assert.True(connection.TlsProtocol is SslProtocols.Tls12 or SslProtocols.Tls13, $"negotiated {connection.TlsProtocol}");
        Assert.NotNull(connection.Features.Get<Microsoft.AspNetCore.Connections.Features.ITlsHandshakeFeature>());
    }

    public void Dispose() => _certificate.Dispose();

    private static string Text(Frame frame) => Encoding.ASCII.GetString(frame.Payload);

    private static async Task EchoAsync(FrameTestClient client, string tag)
    {
        await client.SendFrameAsync(Encoding.UTF8.GetBytes(tag));
        Assert.Equal(tag, Text(await client.ReadRequiredFrameAsync()));
    }

    /// <summary>An echo handler that records the connection each request saw.</summary>
    private Action<IServiceCollection> Recording() => DelegateFrameHandler.Use(async (frame, _) =>
    {
        _seen[Encoding.UTF8.GetString(frame.Request.Span)] = frame.Connection;
        await DelegateFrameHandler.Echo(frame);
    });
}
