using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static KestrelFrames.Tests.Infrastructure.MetricsScrape;

namespace KestrelFrames.Tests.Connections;

public sealed class TlsTests : IDisposable
{
    private readonly TestCertificate _certificate = new();

    [Fact]
    public async Task Requests_are_echoed_over_tls()
    {
        await using var server = TestFrameServer.Start(_certificate.FramesTlsSettings());
        using var client = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, _certificate.Certificate);

        byte[] payload = TestPayloads.Random(100_000, seed: 7);
        await client.SendRawAsync([.. FrameTestClient.Encode(payload), .. FrameTestClient.Encode([]), .. FrameTestClient.Encode("x"u8)]);

        Assert.Equal(payload, (await client.ReadRequiredFrameAsync()).Payload);
        Assert.Empty((await client.ReadRequiredFrameAsync()).Payload);
        Assert.Equal("x"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
    }

    [Fact]
    public async Task Limits_answer_with_their_status_frames_inside_tls()
    {
        var settings = _certificate.FramesTlsSettings();
        settings["Frames:MaxConnections"] = "1";
        await using var server = TestFrameServer.Start(settings);
        using var first = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, _certificate.Certificate);
        await first.SendFrameAsync("hold"u8);
        await first.ReadRequiredFrameAsync();

        using var second = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, _certificate.Certificate);
        Assert.Equal(FrameStatus.ConnectionLimit, (await second.ReadRequiredFrameAsync()).Status);

        await first.SendRawAsync([0x7F, 0, 0, 0]);
        Assert.Equal(FrameStatus.FrameTooLarge, (await first.ReadRequiredFrameAsync()).Status);
        Assert.True(await first.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_new_connection_gets_the_new_certificate_once_its_file_changes_and_the_port_stays_the_same()
    {
        using var next = new TestCertificate();
        var settings = _certificate.FramesTlsSettings();
        settings["Kestrel:Endpoints:Frames:Url"] = $"https://127.0.0.1:{Client.ClientTestKit.FreePort()}";
        await using var server = TestFrameServer.Start(settings);
        using (var before = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, _certificate.Certificate))
        {
            await before.SendFrameAsync("old"u8);
            Assert.Equal("old"u8.ToArray(), (await before.ReadRequiredFrameAsync()).Payload);
        }

        _certificate.ReplaceFileWith(next);

        // Kestrel watches the file and rebinds the endpoint with the new certificate; until it has, a handshake
        // shows the old one (or, while it rebinds, the port refuses).
        FrameTestClient? after = null;
        await Polling.UntilAsync(async () => (after = await TryConnectTlsAsync(server, next)) is not null, () => "the endpoint never served the new certificate");
        using (after)
        {
            await after!.SendFrameAsync("new"u8);
            Assert.Equal("new"u8.ToArray(), (await after.ReadRequiredFrameAsync()).Payload);
        }

        Assert.Single(server.Services.GetRequiredService<FrameEndpoints>().EndPoints);
        Assert.Equal(next.Certificate.Thumbprint, Assert.Single(server.Services.GetRequiredService<FrameEndpoints>().Tls).ServerCertificate!.Thumbprint);
    }

    private static async Task<FrameTestClient?> TryConnectTlsAsync(TestFrameServer server, TestCertificate expected)
    {
        try
        {
            return await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, expected.Certificate);
        }
        catch (Exception ex) when (ex is System.Security.Authentication.AuthenticationException or System.Net.Sockets.SocketException or IOException or TimeoutException)
        {
            return null;
        }
    }

    [Fact]
    public async Task A_plaintext_client_on_the_tls_port_is_closed_without_reaching_the_frame_handler()
    {
        await using var server = TestFrameServer.Start(_certificate.FramesTlsSettings());
        using var closures = new ConnectionClosures(server);
        using (var plain = await server.ConnectAsync())
        {
            await plain.SendFrameAsync("hello"u8);
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                // The server answers garbage with a TLS alert or nothing, then closes: never a frame.
                while (await plain.ReadFrameAsync() is not null)
                {
                }

                throw new EndOfStreamException();
            });
        }

        await closures.WaitAsync(1);
        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(0, Sample(metrics, "frames_connections_total"));
        Assert.Equal(0, Sample(metrics, "frames_active_connections"));

        using var good = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, _certificate.Certificate);
        await good.SendFrameAsync("ok"u8);
        Assert.Equal("ok"u8.ToArray(), (await good.ReadRequiredFrameAsync()).Payload);
    }

    [Fact]
    public async Task A_failed_handshake_logs_one_warning_and_a_good_one_logs_none()
    {
        var logs = new LogWaiter();
        await using (var server = TestFrameServer.Start(_certificate.FramesTlsSettings(), logs.Register))
        {
            using (var good = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, _certificate.Certificate))
            {
                await good.SendFrameAsync("ok"u8);
                Assert.Equal("ok"u8.ToArray(), (await good.ReadRequiredFrameAsync()).Payload);
            }

            using var plain = await server.ConnectAsync();
            await plain.SendFrameAsync("hello"u8);

            string warning = await logs.WaitForAsync("TLS handshake failed");
            Assert.StartsWith("Warning: ", warning, StringComparison.Ordinal);
        }

        // Stopped: every connection, the good one included, has been through the check by now.
        Assert.Single(logs.Lines, line => line.Contains("TLS handshake", StringComparison.Ordinal));
    }

    public void Dispose() => _certificate.Dispose();
}
