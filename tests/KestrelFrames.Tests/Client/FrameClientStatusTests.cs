using System.Buffers;
using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

public sealed class FrameClientStatusTests
{
    [Fact]
    public async Task A_request_refused_by_an_overloaded_server_is_a_busy_result_and_the_connection_stays_open()
    {
        var handler = new RecordingHandler(gated: tag => tag == "hold-the-budget!");
        await using var server = TestFrameServer.Start(ShedSettings, handler.Services);
        await using FrameClient holder = await ConnectAsync(server);
        await using FrameClient client = await ConnectAsync(server);
        Task<FrameResponse> held = holder.SendAsync(Hold).AsTask();
        await handler.Entered("hold-the-budget!");

        FrameResponse busy = await client.SendAsync("probe"u8.ToArray());

        Assert.Equal(FrameResponseStatus.Busy, busy.Status);
        Assert.False(busy.IsOk);
        Assert.True(busy.Payload.IsEmpty);
        var error = Assert.Throws<FrameResponseException>(() => busy.EnsureOk());
        Assert.Equal(FrameResponseStatus.Busy, error.Status);
        Assert.Equal(0, handler.Runs("probe")); // Busy means not processed.
        await client.PingAsync(); // Still connected.

        handler.Open();
        Assert.Equal(Hold, (await held).Payload.ToArray());
    }

    [Fact]
    public async Task A_handler_that_throws_is_a_handler_error_result_and_later_requests_are_answered()
    {
        int runs = 0;
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            if (frame.Request.Span.SequenceEqual("boom"u8))
            {
                Interlocked.Increment(ref runs);
                throw new InvalidOperationException("the handler failed");
            }

            await DelegateFrameHandler.Echo(frame);
        }));

        // Even with Busy retries on, a handler error is returned as is: the request was processed.
        await using FrameClient client = await ConnectAsync(server, new FrameClientOptions { Reconnect = new FrameReconnectOptions() });

        FrameResponse failed = await client.SendAsync("boom"u8.ToArray());
        FrameResponse next = await client.SendAsync("next"u8.ToArray());

        Assert.Equal(FrameResponseStatus.HandlerError, failed.Status);
        Assert.Equal(FrameResponseStatus.HandlerError, Assert.Throws<FrameResponseException>(() => failed.EnsureOk()).Status);
        Assert.Equal(1, Volatile.Read(ref runs));
        Assert.Equal("next", Text(next));
    }

    [Fact]
    public async Task A_server_at_its_connection_limit_refuses_the_client_when_it_connects()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:MaxConnections"] = "1" });
        using FrameTestClient first = await server.ConnectAsync();
        await first.SendFrameAsync([]); // Answered: the server holds this connection.
        await first.ReadRequiredFrameAsync();

        var refused = await Assert.ThrowsAsync<FrameConnectionClosedException>(async () => await ConnectAsync(server));

        Assert.Equal(FrameStatus.ConnectionLimit, refused.StatusCode);
        Assert.False(refused.WasProcessed);
    }

    [Fact]
    public async Task An_answer_above_the_clients_max_frame_size_fails_that_request_and_the_client_reconnects_for_the_next()
    {
        await using var server = TestFrameServer.Start(services: DelegateFrameHandler.Use(async (frame, _) =>
        {
            if (frame.Request.Span.SequenceEqual("big"u8))
            {
                frame.Response.Write(new byte[4096]);
                return;
            }

            await DelegateFrameHandler.Echo(frame);
        }));
        await using FrameClient client = await ConnectAsync(server, new FrameClientOptions
        {
            MaxFrameSize = 1024,
            Reconnect = new FrameReconnectOptions { ReconnectDelay = TimeSpan.Zero, MaxReconnectDelay = TimeSpan.Zero },
        });

        var tooLarge = await Assert.ThrowsAsync<FrameConnectionClosedException>(async () => await client.SendAsync("big"u8.ToArray()));

        Assert.True(tooLarge.WasProcessed); // The server ran it; only its answer was refused.
        Assert.Null(tooLarge.StatusCode);
        Assert.Contains("MaxFrameSize", tooLarge.Message, StringComparison.Ordinal);
        Assert.Equal("small", Text(await client.SendAsync("small"u8.ToArray())));
    }

    [Fact]
    public async Task Invalid_options_are_refused_before_connecting()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await FrameClient.ConnectAsync("127.0.0.1", 1, new FrameClientOptions { HeartbeatInterval = TimeSpan.Zero }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await FrameClient.ConnectAsync("127.0.0.1", 1, new FrameClientOptions { Reconnect = new() { MaxReconnectAttempts = 0 } }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await FrameClient.ConnectAsync("127.0.0.1", 0));
    }
}
