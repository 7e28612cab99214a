using System.Net.Sockets;
using KestrelFrames.Primitives;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// Over TLS the transport's output is written by Kestrel's TLS layer, not by the frame connection, so how the
/// transport reports a send that meets a reset decides whether that layer throws: Kestrel's own transport completes
/// the output quietly (the reset is the input's news), and an exception instead escapes the TLS layer as an
/// "Unhandled exception" Error line per connection and strands its pipes' blocks. The soak test found both.
/// </summary>
[Collection(ProcessWideMeasurements.Name)] // It asserts no unobserved task exception in the whole process.
public sealed class TlsResetTests : IDisposable
{
    private const int Clients = 4;
    private readonly TestCertificate _certificate = new();

    [Fact]
    public async Task Tls_clients_reset_while_their_answers_are_being_sent_log_no_error_and_give_every_block_back()
    {
        var logs = new LogWaiter();
        await using var server = TestFrameServer.Start(_certificate.FramesTlsSettings(), services: logs.Register);
        using var closures = new ConnectionClosures(server);
        using var unobserved = new UnobservedTaskExceptions();
        BlockMemoryPoolFactory transport = server.Services.GetRequiredService<BlockMemoryPoolFactory>();
        byte[] request = FrameTestClient.Encode(new byte[64 * 1024]);
        byte[] requests = [.. Enumerable.Repeat(request, 64).SelectMany(r => r)];

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async _ =>
        {
            using var client = await FrameTestClient.ConnectTlsAsync(server.FramesEndPoint, _certificate.Certificate);
            // A small receive window: 4 MiB of answers cannot have gone out by the time the first byte arrives.
            client.Socket.ReceiveBufferSize = 4096;
            Task sending = client.SendRawAsync(requests);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await client.Socket.ReceiveAsync(new byte[1], SocketFlags.Peek, timeout.Token);
            FrameTestClients.Reset(client);
            await Record.ExceptionAsync(() => sending); // The reset may fail the client's own send: observed here.
        }));

        await closures.WaitAsync(Clients);

        await HostileClient.AssertConnectionReleasedAsync(server);
        await Polling.UntilAsync(() => transport.RentedBytes == 0, () => $"Transport blocks still rented after the resets: {transport.RentedBytes} bytes.");
        string[] errors = [.. logs.Lines.Where(l => l.StartsWith("Error:", StringComparison.Ordinal) || l.StartsWith("Critical:", StringComparison.Ordinal))];
        Assert.True(errors.Length == 0, "Error lines: " + string.Join(" | ", errors.Take(3)));
        unobserved.AssertNone();
    }

    public void Dispose() => _certificate.Dispose();
}
