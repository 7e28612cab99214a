using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace KestrelFrames.Tests.Performance;

/// <summary>
/// Guards the hot path: read, parse, dispatch through the worker pool, answer. Not timed: it counts bytes
/// allocated by the whole process (server and this client) while 100,000 echoes go through, and fails if an
/// allocation per request comes back. With Frames:RateLimit off (the default), within it, and over it.
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

        await AssertPerRequestAllocationAsync(server, answerSize: 68);
    }

    [Fact]
    public async Task An_echo_request_within_its_clients_rate_limit_allocates_less_than_64_bytes_on_average()
    {
        // On: every request takes a token from its client's bucket, none is refused.
        await using var server = TestFrameServer.Start(new Dictionary<string, string?>
        {
            ["Frames:RateLimit:RequestsPerSecond"] = "1000000",
            ["Frames:RateLimit:Burst"] = "1000000",
            ["Frames:RateLimit:ConnectionsPerSecond"] = "100",
        });

        await AssertPerRequestAllocationAsync(server, answerSize: 68);
    }

    [Fact]
    public async Task An_echo_request_in_a_priority_lane_allocates_less_than_64_bytes_on_average()
    {
        // A classifier registered and two lanes: every request is classified, and runs in lane "high".
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?>
            {
                ["Frames:Lanes:high:Priority"] = "1",
                ["Frames:Lanes:high:ReservedWorkers"] = "1",
                ["Frames:Lanes:low:Priority"] = "-1",
            },
            services => services.AddSingleton<IFrameLaneClassifier, HighLaneClassifier>());

        await AssertPerRequestAllocationAsync(server, answerSize: 68);
    }

    [Fact]
    public async Task A_request_refused_for_its_clients_rate_allocates_less_than_64_bytes_on_average()
    {
        // The clock stands still: once the one token is spent, every request is answered Busy ("rate limit").
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:RateLimit:RequestsPerSecond"] = "1", ["Frames:RateLimit:Burst"] = "1" },
            time: new FakeTimeProvider());

        await AssertPerRequestAllocationAsync(server, answerSize: FrameHeader.Size + 1 + "rate limit".Length, spendFirst: true);
    }

    private async Task AssertPerRequestAllocationAsync(TestFrameServer server, int answerSize, bool spendFirst = false)
    {
        using var socket = new Socket(System.Net.Sockets.AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.FramesEndPoint);

        // The client reuses two buffers, so what is counted is the server's (and the sockets').
        byte[] batch = new byte[Depth * 68];
        for (int i = 0; i < Depth; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(batch.AsSpan(i * 68), 64);
        }

        if (spendFirst)
        {
            await RunAsync(socket, batch.AsMemory(0, 68), new byte[68], 1);
        }

        byte[] answers = new byte[Depth * answerSize];
        await RunAsync(socket, batch, answers, 20_000 / Depth); // Warm up: JIT tiers, pools, the thread pool.

        long before = GC.GetTotalAllocatedBytes(precise: true);
        await RunAsync(socket, batch, answers, Requests / Depth);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        // Every answer was what the case is about: an echo of 64 bytes, or Busy's status frame.
        uint header = answerSize == 68 ? 64u : FrameHeader.StatusFlag | (uint)(answerSize - FrameHeader.Size);
        Assert.Equal(header, BinaryPrimitives.ReadUInt32BigEndian(answers.AsSpan((Depth - 1) * answerSize)));

        double perRequest = (double)allocated / Requests;
        output.WriteLine($"{perRequest:F1} bytes allocated per request ({allocated} bytes for {Requests}).");
        Assert.True(perRequest < 64, $"{perRequest:F1} bytes allocated per request (total {allocated} for {Requests}).");
    }

    private sealed class HighLaneClassifier : IFrameLaneClassifier
    {
        public string? Classify(in ReadOnlySequence<byte> payload) => payload.Length > 0 ? "high" : null;
    }

    private static async Task RunAsync(Socket socket, ReadOnlyMemory<byte> batch, byte[] answers, int rounds)
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
