using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelFrames.Connections;
using KestrelFrames.Protocol;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Connections;

public sealed class ProxyProtocolTests
{
    private static readonly IPEndPoint s_client = IPEndPoint.Parse("203.0.113.7:5555");
    private static readonly IPEndPoint s_otherClient = IPEndPoint.Parse("198.51.100.9:5555");
    private static readonly IPEndPoint s_balancer = IPEndPoint.Parse("192.0.2.1:7000");
    private static readonly string[] s_reasons = ["untrusted", "missing", "malformed", "timeout"];

    private static readonly Dictionary<string, byte[]> s_malformed = new()
    {
        ["v1 with a bad port"] = ProxyHeaders.V1("PROXY TCP4 203.0.113.7 192.0.2.1 99999 7000"),
        ["v1 without CRLF"] = Encoding.ASCII.GetBytes("PROXY TCP4 203.0.113.7 192.0.2.1 5555 7000 " + new string('x', 100)),
        ["v2 version 3"] = ProxyHeaders.V2(0x31, 0x11, ProxyHeaders.Addresses(s_client, s_balancer)),
        ["v2 too long"] = ProxyHeaders.V2Fixed(0x21, 0x11, ProxyProtocolParser.MaxV2PayloadLength + 1),
    };

    /// <summary>The RemoteEndPoint the handler saw, by the request's payload.</summary>
    private readonly ConcurrentDictionary<string, EndPoint?> _remotes = new();

    public static TheoryData<string> MalformedHeaders => new(s_malformed.Keys);

    [Theory]
    [InlineData(1, "203.0.113.7:5555")]
    [InlineData(2, "203.0.113.7:5555")]
    [InlineData(1, "[2001:db8::7]:5555")]
    [InlineData(2, "[2001:db8::7]:5555")]
    public async Task A_trusted_header_makes_its_source_the_connections_remote_end_point(int version, string source)
    {
        var client = IPEndPoint.Parse(source);
        IPEndPoint destination = client.AddressFamily == AddressFamily.InterNetwork ? s_balancer : IPEndPoint.Parse("[2001:db8::1]:7000");
        await using var server = TestFrameServer.Start(Settings("Optional"), RecordingEcho());
        using var connection = await server.ConnectAsync();

        // Header and first frame in one write, as a balancer forwards them: the frame bytes must not be lost.
        await connection.SendRawAsync([.. Header(version, client, destination), .. FrameTestClient.Encode("first"u8)]);
        Assert.Equal(client, await EchoedRemoteAsync(connection, "first", sent: true));
        Assert.Equal(client, await EchoedRemoteAsync(connection, "second"));
        await AssertRejectedAsync(server, reason: null);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_header_trickled_a_byte_at_a_time_is_read_whole(int version)
    {
        await using var server = TestFrameServer.Start(Settings("Optional"), RecordingEcho());
        using var connection = await server.ConnectAsync();

        foreach (byte b in Header(version, s_client, s_balancer))
        {
            await connection.SendRawAsync([b]);
        }

        Assert.Equal(s_client, await EchoedRemoteAsync(connection, "trickled"));
    }

    [Fact]
    public async Task A_direct_client_without_a_header_is_served_with_its_own_address_in_optional_mode()
    {
        await using var server = TestFrameServer.Start(Settings("Optional"), RecordingEcho());
        using var connection = await server.ConnectAsync();

        Assert.Equal(LocalEndPoint(connection), await EchoedRemoteAsync(connection, "direct"));
    }

    [Fact]
    public async Task The_per_ip_limit_counts_the_headers_source_address_not_the_balancers()
    {
        var settings = Settings("Optional");
        settings["Frames:MaxConnectionsPerIp"] = "1";
        await using var server = TestFrameServer.Start(settings, RecordingEcho());
        using var closures = new ConnectionClosures(server);
        var limiter = server.Services.GetRequiredService<ConnectionLimiter>();

        // Two clients behind the same balancer (127.0.0.1): each is one connection of its own address.
        using var first = await server.ConnectAsync();
        await first.SendRawAsync(ProxyHeaders.V2Proxy(s_client, s_balancer));
        Assert.Equal(s_client, await EchoedRemoteAsync(first, "first"));
        using var second = await server.ConnectAsync();
        await second.SendRawAsync(ProxyHeaders.V1(s_otherClient, s_balancer));
        Assert.Equal(s_otherClient, await EchoedRemoteAsync(second, "second"));
        Assert.Equal(1, limiter.CountFor(s_client.Address));
        Assert.Equal(1, limiter.CountFor(s_otherClient.Address));
        Assert.Equal(0, limiter.CountFor(IPAddress.Loopback));

        // A second connection of the first client's address, from another port, is over its limit.
        using (var third = await server.ConnectAsync())
        {
            await third.SendRawAsync(ProxyHeaders.V2Proxy(new IPEndPoint(s_client.Address, 6666), s_balancer));
            Assert.Equal(FrameStatus.ConnectionLimit, (await third.ReadRequiredFrameAsync()).Status);
            Assert.True(await FrameTestClients.IsClosedAsync(third));
        }

        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsScrape.Sample(metrics, "frames_connections_rejected_total{reason=\"per_ip_limit\"}"));

        // The balancer's own address holds no slot: a direct client is served.
        await AssertServesAsync(server, header: false);

        // Once the first client leaves, its address has its slot back, under the address the header gave.
        first.Dispose();
        await closures.WaitAsync(3); // The rejected one, the direct one and the first.
        Assert.Equal(0, limiter.CountFor(s_client.Address));
        using var again = await server.ConnectAsync();
        await again.SendRawAsync(ProxyHeaders.V1(new IPEndPoint(s_client.Address, 7777), s_balancer));
        Assert.Equal(new IPEndPoint(s_client.Address, 7777), await EchoedRemoteAsync(again, "again"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_header_from_an_untrusted_peer_is_closed_without_an_answer_and_counted_untrusted(int version)
    {
        await using var server = TestFrameServer.Start(Settings("Optional", trusted: "10.0.0.0/8"), RecordingEcho());
        using var closures = new ConnectionClosures(server);

        // A direct client of the untrusted peer is fine in Optional mode.
        using var direct = await server.ConnectAsync();
        Assert.Equal(LocalEndPoint(direct), await EchoedRemoteAsync(direct, "direct"));

        using (var spoofer = await server.ConnectAsync())
        {
            await spoofer.SendRawAsync([.. Header(version, s_client, s_balancer), .. FrameTestClient.Encode("spoofed"u8)]);
            Assert.True(await FrameTestClients.IsClosedAsync(spoofer));
        }

        await closures.WaitAsync(1);
        Assert.False(_remotes.ContainsKey("spoofed"));
        await AssertRejectedAsync(server, "untrusted");
        await AssertServesAsync(server, header: false);
    }

    [Fact]
    public async Task In_required_mode_a_peer_not_trusted_is_closed_even_before_it_sends_and_counted_untrusted()
    {
        await using var server = TestFrameServer.Start(Settings("Required", trusted: "10.0.0.0/8"), RecordingEcho());
        using var closures = new ConnectionClosures(server);

        using (var connection = await server.ConnectAsync())
        {
            Assert.True(await FrameTestClients.IsClosedAsync(connection));
        }

        await closures.WaitAsync(1);
        await AssertRejectedAsync(server, "untrusted");
    }

    [Fact]
    public async Task In_required_mode_a_trusted_peer_sending_a_frame_first_is_closed_and_counted_missing()
    {
        await using var server = TestFrameServer.Start(Settings("Required"), RecordingEcho());
        using var closures = new ConnectionClosures(server);

        using (var connection = await server.ConnectAsync())
        {
            await connection.SendFrameAsync("no header"u8);
            Assert.True(await FrameTestClients.IsClosedAsync(connection));
        }

        await closures.WaitAsync(1);
        Assert.False(_remotes.ContainsKey("no header"));
        await AssertRejectedAsync(server, "missing");
        await AssertServesAsync(server, header: true);
    }

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public async Task In_required_mode_a_malformed_header_is_closed_and_counted_malformed(string name)
    {
        await using var server = TestFrameServer.Start(Settings("Required"), RecordingEcho());
        using var closures = new ConnectionClosures(server);

        using (var connection = await server.ConnectAsync())
        {
            await connection.SendRawAsync([.. s_malformed[name], .. FrameTestClient.Encode("after"u8)]);
            Assert.True(await FrameTestClients.IsClosedAsync(connection));
        }

        await closures.WaitAsync(1);
        Assert.False(_remotes.ContainsKey("after"));
        await AssertRejectedAsync(server, "malformed");
        await AssertServesAsync(server, header: true);
    }

    [Fact]
    public async Task A_header_cut_short_by_the_client_leaving_is_counted_malformed()
    {
        await using var server = TestFrameServer.Start(Settings("Required"), RecordingEcho());
        using var closures = new ConnectionClosures(server);

        using (var connection = await server.ConnectAsync())
        {
            await connection.SendRawAsync(ProxyHeaders.V2Proxy(s_client, s_balancer)[..20]);
            connection.Socket.Shutdown(SocketShutdown.Send);
            Assert.True(await FrameTestClients.IsClosedAsync(connection));
        }

        await closures.WaitAsync(1);
        await AssertRejectedAsync(server, "malformed");
        await AssertServesAsync(server, header: true);
    }

    [Theory]
    [InlineData("v2 LOCAL")]
    [InlineData("v1 UNKNOWN")]
    public async Task In_required_mode_a_header_without_a_client_address_keeps_the_balancers_address(string kind)
    {
        await using var server = TestFrameServer.Start(Settings("Required"), RecordingEcho());
        using var connection = await server.ConnectAsync();

        byte[] header = kind == "v2 LOCAL" ? ProxyHeaders.V2Local() : ProxyHeaders.V1("PROXY UNKNOWN");
        await connection.SendRawAsync([.. header, .. FrameTestClient.Encode("health check"u8)]);

        Assert.Equal(LocalEndPoint(connection), await EchoedRemoteAsync(connection, "health check", sent: true));
        await AssertRejectedAsync(server, reason: null);
    }

    [Fact]
    public async Task In_required_mode_a_connection_silent_past_the_header_timeout_is_closed_and_counted_timeout()
    {
        var time = new FakeTimeProvider();
        var settings = Settings("Required");
        settings["Frames:ProxyProtocol:HeaderTimeout"] = "00:00:02";
        await using var server = TestFrameServer.Start(settings, RecordingEcho(), time);
        using var closures = new ConnectionClosures(server);
        using var silent = await server.ConnectAsync();
        using var pacer = await server.ConnectAsync();
        await pacer.SendRawAsync(ProxyHeaders.V2Proxy(s_otherClient, s_balancer));
        await HostileClient.RoundTripAsync(pacer); // Accepted after the silent one: its header wait has most likely begun.
        Task<Frame?> end = silent.ReadFrameAsync();

        time.Advance(TimeSpan.FromSeconds(1));
        await HostileClient.RoundTripAsync(pacer);
        Assert.False(end.IsCompleted, "closed before its header timeout");

        // Paced by the server, not the wall clock; should its wait have begun late, the next step passes its timeout.
        for (int i = 0; i < 5 && !end.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(3));
            await HostileClient.RoundTripAsync(pacer);
        }

        Assert.Null(await end); // Closed without a status frame.
        silent.Dispose(); // The server lingers until the client closes too.
        await closures.WaitAsync(1);
        await AssertRejectedAsync(server, "timeout");
        await AssertServesAsync(server, header: true);
    }

    [Fact]
    public async Task In_optional_mode_a_direct_client_silent_past_the_header_timeout_is_still_served()
    {
        var time = new FakeTimeProvider();
        var settings = Settings("Optional");
        settings["Frames:ProxyProtocol:HeaderTimeout"] = "00:00:02";
        await using var server = TestFrameServer.Start(settings, RecordingEcho(), time);
        using var slow = await server.ConnectAsync();
        using var pacer = await server.ConnectAsync();
        await HostileClient.RoundTripAsync(pacer);

        time.Advance(TimeSpan.FromSeconds(3));
        await HostileClient.RoundTripAsync(pacer);

        Assert.Equal(LocalEndPoint(slow), await EchoedRemoteAsync(slow, "late"));
        await AssertRejectedAsync(server, reason: null);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task The_header_comes_before_the_tls_handshake_and_its_source_is_the_remote_end_point_inside_tls(int version)
    {
        using var certificate = new TestCertificate();
        var settings = certificate.FramesTlsSettings();
        settings["Frames:ProxyProtocol:Mode"] = "Optional";
        settings["Frames:ProxyProtocol:TrustedProxies:0"] = "127.0.0.1";
        await using var server = TestFrameServer.Start(settings, RecordingEcho());

        using (var proxied = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, certificate.Certificate, Header(version, s_client, s_balancer)))
        {
            Assert.Equal(s_client, await EchoedRemoteAsync(proxied, "over tls"));
        }

        using var direct = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, certificate.Certificate);
        Assert.Equal(LocalEndPoint(direct), await EchoedRemoteAsync(direct, "direct over tls"));
    }

    [Fact]
    public async Task With_proxy_protocol_off_a_header_is_only_frame_bytes_and_gets_frame_too_large()
    {
        await using var server = TestFrameServer.Start(services: RecordingEcho());
        using var connection = await server.ConnectAsync();

        // "PROXY " read as a frame header announces 0x50524F58 bytes.
        await connection.SendRawAsync(ProxyHeaders.V1(s_client, s_balancer));

        Assert.Equal(FrameStatus.FrameTooLarge, (await connection.ReadRequiredFrameAsync()).Status);
        Assert.True(await FrameTestClients.IsClosedAsync(connection));
    }

    private static Dictionary<string, string?> Settings(string mode, string trusted = "127.0.0.1") => new()
    {
        ["Frames:ProxyProtocol:Mode"] = mode,
        ["Frames:ProxyProtocol:TrustedProxies:0"] = trusted,
    };

    private static byte[] Header(int version, IPEndPoint source, IPEndPoint destination) =>
        version == 1 ? ProxyHeaders.V1(source, destination) : ProxyHeaders.V2Proxy(source, destination);

    private static IPEndPoint LocalEndPoint(FrameTestClient connection) => (IPEndPoint)connection.Socket.LocalEndPoint!;

    /// <summary>frames_proxy_protocol_rejected_total is 1 for <paramref name="reason"/> and 0 for every other (all 0 for null).</summary>
    private static async Task AssertRejectedAsync(TestFrameServer server, string? reason)
    {
        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.All(s_reasons, r =>
            Assert.Equal((r, r == reason ? 1.0 : 0.0), (r, MetricsScrape.Sample(metrics, $"frames_proxy_protocol_rejected_total{{reason=\"{r}\"}}"))));
    }

    /// <summary>An echo handler that records the RemoteEndPoint each request saw, by its payload.</summary>
    private Action<IServiceCollection> RecordingEcho() => DelegateFrameHandler.Use(async (frame, _) =>
    {
        _remotes[Encoding.UTF8.GetString(frame.Request.Span)] = frame.RemoteEndPoint;
        await DelegateFrameHandler.Echo(frame);
    });

    /// <summary>Sends <paramref name="tag"/> (unless already <paramref name="sent"/>), checks its echo and returns the RemoteEndPoint the handler saw.</summary>
    private async Task<EndPoint?> EchoedRemoteAsync(FrameTestClient connection, string tag, bool sent = false)
    {
        byte[] payload = Encoding.UTF8.GetBytes(tag);
        if (!sent)
        {
            await connection.SendFrameAsync(payload);
        }

        Frame answer = await connection.ReadRequiredFrameAsync();
        Assert.False(answer.IsStatus, answer.ToString());
        Assert.Equal(payload, answer.Payload);
        return _remotes[tag];
    }

    /// <summary>A well-behaved client, with a trusted header or direct, is still echoed.</summary>
    private async Task AssertServesAsync(TestFrameServer server, bool header)
    {
        using var connection = await server.ConnectAsync();
        string tag = $"still serves {Guid.NewGuid():N}";
        if (header)
        {
            await connection.SendRawAsync(ProxyHeaders.V2Proxy(s_otherClient, s_balancer));
        }

        Assert.Equal(header ? s_otherClient : LocalEndPoint(connection), await EchoedRemoteAsync(connection, tag));
    }
}
