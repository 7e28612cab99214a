using System.Buffers.Binary;
using System.Net.Sockets;
using KestrelFrames.Tests.Infrastructure;
using Xunit.Abstractions;

namespace KestrelFrames.Tests.Performance;

/// <summary>
/// Guards the hot path: read, parse, dispatch through the worker pool, answer. Not timed: it counts bytes
/// allocated by the whole process (server and this client) while 100,000 echoes go through, and fails if an
/// allocation per request comes back.
/// </summary>
[Collection(SerialAllocation.Name)]
public sealed class AllocationTests(ITestOutputHelper output)
{
    private const int Requests = 100_000;
    private const int Depth = 16;

    [Fact]
    public async Task An_echo_request_allocates_less_than_64_bytes_on_average()
    {
        await using var server = TestFrameServer.Start();
        using var socket = new Socket(System.Net.Sockets.AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.FramesEndPoint);

        // The client reuses two buffers, so what is counted is the server's (and the sockets').
        byte[] batch = new byte[Depth * 68];
        for (int i = 0; i < Depth; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(i * 68), 64);
        }

        byte[] answers = new byte[batch.Length];
        await RunAsync(socket, batch, answers, 20_000 / Depth); // Warm up: JIT tiers, pools, the thread pool.

        long before = GC.GetTotalAllocatedBytes(precise: true);
        await RunAsync(socket, batch, answers, Requests / Depth);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        double perRequest = (double)allocated / Requests;
        output.WriteLine($"{perRequest:F1} bytes allocated per echo request ({allocated} bytes for {Requests}).");
        Assert.True(perRequest < 64, $"{perRequest:F1} bytes allocated per request (total {allocated} for {Requests}).");
    }

    private static async Task RunAsync(Socket socket, byte[] batch, byte[] answers, int rounds)
    {
        for (int round = 0; round < rounds; round++)
        {
            await socket.SendAsync(batch, SocketFlags.None);
            int read = 0;
            while (read < answers.Length)
            {
                int n = await socket.ReceiveAsync(answers.AsMemory(read), SocketFlags.None);
                if (n == 0)
                {
                    throw new EndOfStreamException();
                }

                read += n;
            }
        }
    }
}
