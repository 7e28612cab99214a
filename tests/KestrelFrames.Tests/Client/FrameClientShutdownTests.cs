using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

public sealed class FrameClientShutdownTests
{
    [Fact]
    public async Task Requests_unanswered_when_the_server_shuts_down_fail_with_shutting_down_and_were_never_processed()
    {
        const int Requests = 10;
        var handler = new RecordingHandler(gated: _ => true);
        await using var server = TestFrameServer.Start(NarrowSettings, handler.Services);
        await using FrameClient client = await ConnectAsync(server);
        using FrameTestClient idle = await server.ConnectAsync();
        await idle.SendFrameAsync([]);
        await idle.ReadRequiredFrameAsync();

        var sends = Enumerable.Range(0, Requests).Select(i => client.SendAsync(Tag(i)).AsTask()).ToArray();
        await handler.Entered(TagText(0));
        Task stopping = server.StopAsync();

        // The idle connection is told at once: the drain has begun, and the held requests may now finish.
        Assert.Equal(FrameStatus.ShuttingDown, (await idle.ReadRequiredFrameAsync()).Status);
        idle.Dispose(); // As told: the server lingers until a told client leaves.
        handler.Open();

        int answered = 0;
        for (int i = 0; i < Requests; i++)
        {
            try
            {
                FrameResponse response = await sends[i];
                Assert.Equal(i, answered); // The answered requests are a prefix, in order.
                Assert.Equal(TagText(i), Text(response));
                Assert.Equal(1, handler.Runs(TagText(i)));
                answered++;
            }
            catch (FrameShuttingDownException refused)
            {
                Assert.Equal(FrameStatus.ShuttingDown, refused.StatusCode);
                Assert.False(refused.WasProcessed);
                Assert.Equal(0, handler.Runs(TagText(i))); // Safe to resend: it never ran.
            }
        }

        Assert.InRange(answered, 1, Requests - 1);
        await stopping;

        // Without Reconnect the client stays closed, and says why.
        var closed = await Assert.ThrowsAsync<FrameShuttingDownException>(async () => await client.SendAsync("later"u8.ToArray()));
        Assert.False(closed.WasProcessed);
    }

    [Fact]
    public async Task Disposing_the_client_fails_the_requests_still_waiting_and_refuses_new_ones()
    {
        var handler = new RecordingHandler(gated: _ => true);
        await using var server = TestFrameServer.Start(services: handler.Services);
        FrameClient client = await ConnectAsync(server);
        Task<FrameResponse> waiting = client.SendAsync("waiting"u8.ToArray()).AsTask();
        await handler.Entered("waiting");

        await client.DisposeAsync();

        var closed = await Assert.ThrowsAsync<FrameConnectionClosedException>(() => waiting);
        Assert.Null(closed.StatusCode);
        Assert.Null(closed.WasProcessed); // It was sent: the client cannot know whether it ran (here it did).
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.SendAsync("late"u8.ToArray()));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.PingAsync());
        await client.DisposeAsync(); // Idempotent.
        handler.Open();
    }

    [Fact]
    public async Task A_dropped_connection_fails_the_unanswered_requests_as_possibly_processed()
    {
        var handler = new RecordingHandler(gated: _ => true);
        await using var server = TestFrameServer.Start(services: services =>
        {
            handler.Services(services);
            services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        });
        await using FrameClient client = await ConnectAsync(server);
        Task<FrameResponse> waiting = client.SendAsync("stuck"u8.ToArray()).AsTask();
        await handler.Entered("stuck");

        // The handler never finishes: at the shutdown timeout the server aborts the connection, without a status.
        await server.StopAsync();

        var dropped = await Assert.ThrowsAsync<FrameConnectionClosedException>(() => waiting);
        Assert.IsNotType<FrameShuttingDownException>(dropped);
        Assert.Null(dropped.StatusCode);
        Assert.Null(dropped.WasProcessed);
        handler.Open();
    }
}
