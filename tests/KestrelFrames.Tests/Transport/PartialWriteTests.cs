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

    // 512 MiB: a bound on the stream if the server never stalls, far beyond any kernel's buffers.
    private const int MaxRequests = 8 * 1024;

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
        // Fixed buffers (which turns the kernel's autotuning off for them), so the client holds little of the stream.
        client.Socket.ReceiveBufferSize = ClientSocketBuffer;
        client.Socket.SendBufferSize = ClientSocketBuffer;

        // Requests until the server has stalled, however much the kernels between the two hold: a stream sized from
        // this machine's tcp_rmem and tcp_wmem was stored whole on a CI machine, twice, and the server never stalled.
        int sent = 0;
        bool stalled = false;
        Task sending = Task.Run(async () =>
        {
            while (!Volatile.Read(ref stalled) && sent < MaxRequests)
            {
                await client.SendRawAsync(EchoStream.Frame(sent));
                Volatile.Write(ref sent, sent + 1);
            }

            client.Socket.Shutdown(SocketShutdown.Send);
        });

        // The server's input pipe fills only once its in-flight window is full, and that window drains only as answers
        // are sent: a full input pipe means the sends have been refused (EAGAIN) and the answers wait for room.
        await Polling.UntilAsync(() => transport.RentedBytes >= MaxReadBufferSize || sending.IsCompleted,
            () => $"The server never stalled on this client: {transport.RentedBytes} transport bytes rented, {Volatile.Read(ref sent)} requests sent.");
        Assert.True(transport.RentedBytes >= MaxReadBufferSize, $"The server never stalled on {sent} requests: {transport.RentedBytes} transport bytes rented.");
        Volatile.Write(ref stalled, true);

        // Echo answers are frames of the same lengths and payloads as the requests: byte for byte the same stream.
        // Read slowly at first, a kilobyte per receive, so the room comes back a little at a time; then in large reads.
        var expected = new EchoStream();
        await ReceiveAsync(client.Socket, expected, SlowPart, chunk: 1024);
        await ReceiveAsync(client.Socket, expected, long.MaxValue, chunk: 256 * 1024);
        await sending;
        Assert.Equal((long)sent * EchoStream.FrameLength, expected.Position);
    }

    /// <summary>
    /// Receives, <paramref name="chunk"/> bytes a call at most, until <paramref name="expected"/> has checked
    /// <paramref name="end"/> bytes or the server ends the stream (cleanly: a reset throws).
    /// </summary>
    private static async Task ReceiveAsync(Socket socket, EchoStream expected, long end, int chunk)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        byte[] buffer = new byte[chunk];
        while (expected.Position < end)
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                return;
            }

            expected.Check(buffer.AsSpan(0, n));

            // Receives that complete at once would otherwise keep the runtime's one socket-engine thread (completions
            // run inline in the tests, see KestrelFrames.Tests.runsettings) from every other client in the process.
            await Task.Yield();
        }
    }

    /// <summary>The requests, each 64 KiB of its own seed, and the echoes they owe, checked as they arrive.</summary>
    private sealed class EchoStream
    {
        public const int FrameLength = 4 + PayloadSize;

        private byte[] _frame = Frame(0);
        private int _index;

        public long Position { get; private set; }

        public static byte[] Frame(int index) => FrameTestClient.Encode(TestPayloads.Random(PayloadSize, seed: index));

        public void Check(ReadOnlySpan<byte> received)
        {
            while (!received.IsEmpty)
            {
                int offset = (int)(Position % FrameLength);
                int index = (int)(Position / FrameLength);
                if (index != _index)
                {
                    _frame = Frame(index);
                    _index = index;
                }

                ReadOnlySpan<byte> owed = _frame.AsSpan(offset, Math.Min(FrameLength - offset, received.Length));
                int same = received.CommonPrefixLength(owed);
                Assert.True(same == owed.Length, $"The answers differ from the requests at byte {Position + same}.");
                Position += owed.Length;
                received = received[owed.Length..];
            }
        }
    }
}
