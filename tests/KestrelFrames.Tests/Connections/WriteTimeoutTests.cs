using KestrelFrames.Connections;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Connections;

[Collection(ProcessWideMeasurements.Name)]
public sealed class WriteTimeoutTests
{
    private const int RequestSize = 1024;
    private const int MaxInFlight = 32;
    private static readonly TimeSpan s_writeTimeout = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task A_client_that_never_reads_is_held_to_one_in_flight_window_and_aborted_after_the_write_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:WriteTimeout"] = "00:00:05" }, time: time);
        using var closures = new ConnectionClosures(server);
        BufferBudget budget = server.Services.GetRequiredService<BufferBudget>();
        byte[] request = FrameTestClient.Encode(new byte[RequestSize]);
        byte[] requests = [.. Enumerable.Repeat(request, 1_000).SelectMany(r => r)];
        using var client = await server.ConnectAsync();
        long memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        // Sends until the server stops reading and TCP pushes back: however much the kernel's buffers hold (loopback
        // autotunes receive buffers up to tcp_rmem's maximum, 32 MiB here), the send stalls once they are full.
        Task sending = Task.Run(async () =>
        {
            while (true)
            {
                await client.SendRawAsync(requests);
            }
        });

        // Polling: there is no event to await for "the transport's send buffer is full". Wait (at most 10 s) until the
        // server holds a full in-flight window and keeps holding it while the client is still stuck sending.
        int steady = 0;
        for (int polls = 0; polls < 1000 && steady < 10; polls++)
        {
            await Task.Delay(10);
            steady = budget.Used >= MaxInFlight * RequestSize && !sending.IsCompleted ? steady + 1 : 0;
        }

        long held = budget.Used;
        long memoryGrowth = GC.GetTotalMemory(forceFullCollection: false) - memoryBefore;
        Assert.True(steady >= 10, $"The server never held a full window while the client was stuck (budget {held}, send completed: {sending.IsCompleted}).");

        // One window of requests, plus at most the next frame's reservation, taken as its header arrived.
        Assert.InRange(held, MaxInFlight * RequestSize, (MaxInFlight + 1) * RequestSize);
        Assert.True(memoryGrowth < 32L * 1024 * 1024, $"The managed heap grew by {memoryGrowth} bytes.");
        Assert.False(sending.IsCompleted);

        Task closed = closures.WaitAsync(1);
        for (int i = 0; i < 20 && !closed.IsCompleted; i++)
        {
            time.Advance(s_writeTimeout + FrameHeartbeat.Interval);
            await Task.WhenAny(closed, Task.Delay(100)); // Pacing only: one more advance does no harm.
        }

        await closed;
        Assert.Equal(1, await HostileClient.ProtocolErrorsAsync(server, "write_timeout"));
        await HostileClient.AssertConnectionReleasedAsync(server);

        client.Dispose(); // Ends the stuck send, if the server's reset did not already.
        await Record.ExceptionAsync(() => sending);
        Assert.True(sending.IsCompleted);
        await HostileClient.AssertServerStillServesAsync(server);
    }
}
