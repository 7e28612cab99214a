using System.Net.Sockets;
using KestrelFrames.Primitives;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// Answers the socket cannot take: the transport's sends come back short and then "would block" (EAGAIN), and the
/// rest must go out, from exactly where it stopped, once the client makes room (EPOLLOUT on the epoll transport). A
/// send that dropped, repeated or reordered a slice shows up here as a wrong byte.
/// </summary>
/// <remarks>
/// The client stalls by not reading rather than by reading through a tiny receive buffer: on loopback the segment
/// size is 64 KiB, and a receive buffer smaller than that advertises a zero window until the persist timer probes it,
/// which takes longer than the 10 s write timeout on either transport.
/// </remarks>
public sealed class PartialWriteTests
{
    private const int PayloadSize = 64 * 1024;
    private const int ClientSocketBuffer = 256 * 1024;
    private const int SlowPart = 1024 * 1024;

    // SocketTransport:MaxReadBufferSize's default: the input pipe stops taking bytes at this much unread.
    private const long MaxReadBufferSize = 1024 * 1024;

    [Fact]
    public async Task Pipelined_64_KiB_echoes_held_up_by_a_client_that_is_not_reading_arrive_whole_in_order_then_eof()
    {
        // The client reads nothing until the server has stalled on it; on a loaded machine filling 1 MiB of input can
        // take longer than the default 10 s write timeout, which would abort the connection this test is about.
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:WriteTimeout"] = "00:02:00" });
        BlockMemoryPoolFactory transport = server.Services.GetRequiredService<BlockMemoryPoolFactory>();
        using var client = await server.ConnectAsync();
        // Fixed buffers on the client (which also turns off the kernel's autotuning for them), and a stream larger than
        // the most the server's socket can buffer (tcp_rmem's and tcp_wmem's maxima, 32 MiB and 4 MiB here): with
        // 16 MiB and autotuned buffers, a CI run stored the whole stream in the kernels and the server never stalled.
        client.Socket.ReceiveBufferSize = ClientSocketBuffer;
        client.Socket.SendBufferSize = ClientSocketBuffer;
        int requests = RequestsBeyondKernelBuffers();

        // Echo answers are frames of the same lengths and payloads as the requests: byte for byte the same stream.
        byte[] stream = [.. Enumerable.Range(0, requests).SelectMany(i => FrameTestClient.Encode(TestPayloads.Random(PayloadSize, seed: i)))];
        Task sending = Task.Run(async () =>
        {
            await client.SendRawAsync(stream);
            client.Socket.Shutdown(SocketShutdown.Send);
        });

        // The server's input pipe fills only once its in-flight window is full, and that window drains only as answers
        // are sent: a full input pipe means the sends have been refused (EAGAIN) and the answers wait for room.
        await Polling.UntilAsync(() => transport.RentedBytes >= MaxReadBufferSize,
            () => $"The server never stalled on this client: {transport.RentedBytes} transport bytes rented.");

        // Then slowly, a kilobyte per receive, so the room comes back a little at a time; then in large reads.
        var received = new byte[stream.Length];
        int total = await ReceiveAsync(client.Socket, received, 0, SlowPart, chunk: 1024);
        total = await ReceiveAsync(client.Socket, received, total, stream.Length, chunk: 256 * 1024);

        Assert.Equal(stream.Length, total);
        int firstDifference = received.AsSpan().CommonPrefixLength(stream);
        Assert.True(firstDifference == stream.Length, $"The answers differ from the requests at byte {firstDifference} of {stream.Length}.");
        await sending;

        // Everything owed, then a clean end of stream: no byte more, and no reset.
        Assert.True(await client.IsClosedByServerAsync());
    }

    /// <summary>
    /// Enough 64 KiB requests to outgrow the server socket's largest receive and send buffers, both client buffers,
    /// the answers in flight and the input pipe, with 8 MiB to spare.
    /// </summary>
    private static int RequestsBeyondKernelBuffers()
    {
        static long Maximum(string file) => File.Exists(file) ? long.Parse(File.ReadAllText(file).Split('\t', ' ')[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture) : 4L * 1024 * 1024;
        long bytes = Maximum("/proc/sys/net/ipv4/tcp_rmem") + Maximum("/proc/sys/net/ipv4/tcp_wmem") + (2L * ClientSocketBuffer) + (8L * 1024 * 1024);
        return (int)Math.Max(256, bytes / PayloadSize);
    }

    /// <summary>Receives into <paramref name="buffer"/> from <paramref name="offset"/> up to <paramref name="end"/>, at most <paramref name="chunk"/> bytes a call.</summary>
    private static async Task<int> ReceiveAsync(Socket socket, byte[] buffer, int offset, int end, int chunk)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (offset < end)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(offset, Math.Min(chunk, end - offset)), SocketFlags.None, timeout.Token);
            Assert.True(n > 0, $"The server closed the connection after {offset} of {buffer.Length} bytes.");
            offset += n;

            // Receives that complete at once would otherwise keep the runtime's one socket-engine thread (completions
            // run inline in the tests, see KestrelFrames.Tests.runsettings) from every other client in the process.
            await Task.Yield();
        }

        return offset;
    }
}
