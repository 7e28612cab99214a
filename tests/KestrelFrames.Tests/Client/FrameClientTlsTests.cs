using System.Security.Authentication;
using KestrelFrames.Client;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

public sealed class FrameClientTlsTests
{
    [Fact]
    public async Task With_tls_options_requests_and_pings_go_through_an_authenticated_tls_stream()
    {
        await using var server = new TlsEchoServer();
        await using FrameClient client = await FrameClient.ConnectAsync("127.0.0.1", server.Port, new FrameClientOptions
        {
            Tls = new FrameClientTlsOptions
            {
                TargetHost = "localhost",
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && certificate.GetCertHashString() == server.Certificate.GetCertHashString(),
            },
        });

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => client.SendAsync(Tag(i)).AsTask()));
        await client.PingAsync();

        Assert.Equal(Enumerable.Range(0, 50).Select(TagText), answers.Select(Text));
        Assert.Equal(1 + 50 + 1, server.FramesEchoed); // The connect heartbeat, the requests, the ping.
    }

    [Fact]
    public async Task A_server_certificate_that_fails_validation_fails_the_connect()
    {
        await using var server = new TlsEchoServer();

        // No callback: the platform rejects a self-signed certificate.
        await Assert.ThrowsAsync<AuthenticationException>(async () =>
            await FrameClient.ConnectAsync("127.0.0.1", server.Port, new FrameClientOptions { Tls = new FrameClientTlsOptions { TargetHost = "localhost" } }));
    }
}
