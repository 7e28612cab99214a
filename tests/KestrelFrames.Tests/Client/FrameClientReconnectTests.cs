using System.Net.Sockets;
using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

/// <summary>
/// A server stopped and another started on the same port, as a rolling restart behind one address looks to a client.
/// Reconnect delays are real but short: the tests await outcomes, never a duration.
/// </summary>
public sealed class FrameClientReconnectTests
{
    private static FrameClientOptions Reconnecting(bool resendAfterConnectionLoss = true) => new()
    {
        Reconnect = new FrameReconnectOptions
        {
            MaxReconnectAttempts = 200,
            ReconnectDelay = TimeSpan.FromMilliseconds(5),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(100),
            ResendAfterConnectionLoss = resendAfterConnectionLoss,
        },
    };

    [Fact]
    public async Task Across_a_server_restart_the_client_resends_exactly_the_unanswered_requests_and_none_runs_twice()
    {
        const int Requests = 20;
        int port = FreePort();
        var first = new RecordingHandler(gated: _ => true);
        var second = new RecordingHandler();
        var serverA = TestFrameServer.Start(OnPort(port, NarrowSettings), first.Services);
        TestFrameServer? serverB = null;
        try
        {
            await using FrameClient client = await ConnectAsync(port, Reconnecting());
            using FrameTestClient idle = await serverA.ConnectAsync();
            await idle.SendFrameAsync([]);
            await idle.ReadRequiredFrameAsync();

            var sends = Enumerable.Range(0, Requests).Select(i => client.SendAsync(Tag(i)).AsTask()).ToArray();
            await first.Entered(TagText(0));
            Task stopping = serverA.StopAsync();
            Assert.Equal(FrameStatus.ShuttingDown, (await idle.ReadRequiredFrameAsync()).Status);
            first.Open();
            await stopping;

            // The client has been told ShuttingDown and is trying to reconnect; the next server comes up meanwhile.
            serverB = TestFrameServer.Start(OnPort(port), second.Services);

            for (int i = 0; i < Requests; i++)
            {
                Assert.Equal(TagText(i), Text(await sends[i]));
                Assert.Equal(1, first.Runs(TagText(i)) + second.Runs(TagText(i)));
            }

            Assert.InRange(first.TotalRuns, 1, Requests - 1);
            Assert.Equal(Requests, first.TotalRuns + second.TotalRuns);

            // Resent in their original order, and before anything new.
            Assert.Equal("new", Text(await client.SendAsync("new"u8.ToArray())));
        }
        finally
        {
            await serverA.DisposeAsync();
            if (serverB is not null)
            {
                await serverB.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task After_a_shutdown_with_nothing_pending_the_client_reconnects_when_the_next_request_is_sent()
    {
        int port = FreePort();
        var serverA = TestFrameServer.Start(OnPort(port));
        await using FrameClient client = await ConnectAsync(port, Reconnecting());
        Assert.Equal("before", Text(await client.SendAsync("before"u8.ToArray())));
        await serverA.DisposeAsync();

        await using var serverB = TestFrameServer.Start(OnPort(port));

        Assert.Equal("after", Text(await client.SendAsync("after"u8.ToArray())));
    }

    [Fact]
    public async Task When_no_server_comes_back_the_request_fails_after_the_last_attempt_and_a_later_one_tries_again()
    {
        int port = FreePort();
        var serverA = TestFrameServer.Start(OnPort(port));
        var options = Reconnecting();
        options.Reconnect!.MaxReconnectAttempts = 3;
        await using FrameClient client = await ConnectAsync(port, options);
        await serverA.DisposeAsync();

        var failed = await Assert.ThrowsAsync<FrameShuttingDownException>(async () => await client.SendAsync("lost"u8.ToArray()));
        Assert.False(failed.WasProcessed);
        Assert.IsType<SocketException>(failed.InnerException);

        await using var serverB = TestFrameServer.Start(OnPort(port));
        Assert.Equal("found", Text(await client.SendAsync("found"u8.ToArray())));
    }

    [Fact]
    public async Task A_connection_dropped_without_a_status_resends_only_what_is_known_unprocessed_when_told_to()
    {
        int port = FreePort();
        var handler = new RecordingHandler(gated: tag => tag == "stuck");
        var serverA = TestFrameServer.Start(OnPort(port), services =>
        {
            handler.Services(services);
            services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(200));
        });
        TestFrameServer? serverB = null;
        try
        {
            await using FrameClient client = await ConnectAsync(port, Reconnecting(resendAfterConnectionLoss: false));
            Task<FrameResponse> stuck = client.SendAsync("stuck"u8.ToArray()).AsTask();
            await handler.Entered("stuck");

            // The shutdown timeout runs out with the handler still busy: the connection is aborted, no status.
            await serverA.StopAsync();
            serverB = TestFrameServer.Start(OnPort(port));

            var unknown = await Assert.ThrowsAsync<FrameConnectionClosedException>(() => stuck);
            Assert.Null(unknown.WasProcessed); // It did run: resending it would have run it twice.
            Assert.Equal("next", Text(await client.SendAsync("next"u8.ToArray())));
        }
        finally
        {
            handler.Open();
            await serverA.DisposeAsync();
            if (serverB is not null)
            {
                await serverB.DisposeAsync();
            }
        }
    }
}
