using KestrelFrames.Connections;
using KestrelFrames.Primitives;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Transport;

/// <summary>
/// A client that sends large requests and never reads their answers: the transport holds what it could not send
/// (on the epoll transport, a send parked until EPOLLOUT), the flush waits, and the write timeout must still abort
/// the connection and hand every transport block back. WriteTimeoutTests covers the budget and the in-flight window
/// with small frames; this is about the transport's own memory with answers the socket cannot take.
/// </summary>
public sealed class NeverReadingClientTests
{
    private const int PayloadSize = 64 * 1024;
    private const int Requests = 256; // 16 MiB of requests, and as much in answers.
    private static readonly TimeSpan s_writeTimeout = TimeSpan.FromSeconds(5);

    // What the transport may hold for one stuck connection: the input pipe up to SocketTransport:MaxReadBufferSize
    // (1 MiB by default), the output pipe up to MaxWriteBufferSize (64 KiB) plus one flush's worth of answers, and a
    // few partly filled blocks; well below the 16 MiB the client pushes.
    private const long TransportBound = 4L * 1024 * 1024;

    [Fact]
    public async Task A_client_that_never_reads_is_aborted_at_the_write_timeout_and_memory_stays_bounded_and_comes_back()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(new Dictionary<string, string?>
        {
            ["Frames:WriteTimeout"] = "00:00:05",
            // Only the write timeout may end this connection, however far the fake clock goes.
            ["Frames:ReadTimeout"] = "01:00:00",
            ["Frames:IdleTimeout"] = "01:00:00",
        }, time: time);
        using var closures = new ConnectionClosures(server);
        BlockMemoryPoolFactory transport = server.Services.GetRequiredService<BlockMemoryPoolFactory>();
        Assert.Equal(0, transport.RentedBytes);
        using var client = await server.ConnectAsync();
        client.Socket.ReceiveBufferSize = 4096;
        byte[] request = FrameTestClient.Encode(new byte[PayloadSize]);
        byte[] requests = [.. Enumerable.Repeat(request, Requests).SelectMany(r => r)];

        // Stalls once the server stops reading (its in-flight window full of answers nobody takes) and TCP pushes back.
        Task sending = Task.Run(() => client.SendRawAsync(requests));

        // A flush the client never lets finish outlives the write timeout whenever the clock is advanced. Pacing only:
        // once the connection is stuck, one more advance does no harm, and each pause is a chance to sample memory.
        long peak = 0;
        Task closed = closures.WaitAsync(1);
        // Until the connection closes: ConnectionClosures fails the wait after 30 s of no close.
        while (!closed.IsCompleted)
        {
            peak = Math.Max(peak, transport.RentedBytes);
            time.Advance(s_writeTimeout + FrameHeartbeat.Interval);
            await Task.WhenAny(closed, Task.Delay(100));
        }

        await closed;

        // The write loop flushes at least every 64 KiB of answers, so a flush meets the transport's backpressure even
        // while the read loop keeps the ring full. Without that it only flushed when the next answer was not ready,
        // and the output grew with whatever the client sent (9.3 MiB seen on epoll, 4.3 MiB on sockets).
        Assert.InRange(peak, 1, TransportBound);

        // The handler has returned; the transport gives its blocks back as it closes the socket (on the epoll
        // transport, on the loop's thread, just after).
        await Polling.UntilAsync(() => transport.RentedBytes == 0, () => $"Transport blocks still rented after the abort: {transport.RentedBytes} bytes.");
        Assert.Empty(server.Leaks.Outstanding());
        Assert.Equal(1, await HostileClient.ProtocolErrorsAsync(server, "write_timeout"));
        await HostileClient.AssertConnectionReleasedAsync(server);

        client.Dispose(); // Ends the stuck send, if the server's abort did not already.
        await Record.ExceptionAsync(() => sending);
        await HostileClient.AssertServerStillServesAsync(server);
    }
}
