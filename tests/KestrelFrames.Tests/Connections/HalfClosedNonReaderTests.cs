using System.Net.Sockets;
using KestrelFrames.Primitives;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Connections;

/// <summary>
/// A client that half-closes and then never reads: the server has answered everything, so the frame connection is
/// over, but its last answers can sit in the transport for as long as the client keeps the socket open.
/// </summary>
public sealed class HalfClosedNonReaderTests
{
    [Fact]
    public async Task A_client_that_half_closes_and_never_reads_its_answers_is_dropped_after_the_write_timeout()
    {
        // A write buffer far larger than the answers: every flush completes at once, so the write loop ends with the
        // answers still unsent and no flush waiting that the write timeout would cover.
        await using var server = TestFrameServer.Start(new Dictionary<string, string?>
        {
            ["Frames:WriteTimeout"] = "00:00:01",
            ["SocketTransport:MaxWriteBufferSize"] = (256L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Frames:MaxBufferedBytes"] = (256L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        BlockMemoryPoolFactory transport = server.Services.GetRequiredService<BlockMemoryPoolFactory>();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await socket.ConnectAsync(server.FramesEndPoint);

        // 32 MiB of echoes: more than the kernel's buffers on both sides hold.
        byte[] request = FrameTestClient.Encode(new byte[256 * 1024]);
        for (int i = 0; i < 128; i++)
        {
            await socket.SendAsync(request, SocketFlags.None);
        }

        socket.Shutdown(SocketShutdown.Send);

        // The server must let go of the answers the client does not take: no transport block stays rented.
        await Polling.UntilAsync(
            () => transport.RentedBytes == 0,
            () => $"The transport still holds {transport.RentedBytes} bytes of answers for a client that does not read.");
    }
}
