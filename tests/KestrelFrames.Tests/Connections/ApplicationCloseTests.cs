using System.Collections.Concurrent;
using System.Text;
using KestrelFrames.Connections;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Connections;

/// <summary>FrameConnectionInfo.RequestClose: the application ends a connection the way a drain does.</summary>
public sealed class ApplicationCloseTests
{
    [Fact]
    public async Task A_handler_that_requests_the_close_gets_its_answer_and_every_earlier_one_out_then_ShuttingDown_and_a_clean_end()
    {
        var lifecycle = new RecordingLifecycle();
        await using var server = StartWithByeHandler(lifecycle, new ConcurrentQueue<string>());
        using var client = await server.ConnectAsync();

        // One write: the three requests arrive in one read, and run at once on the workers.
        await client.SendRawAsync([.. FrameTestClient.Encode("one"u8), .. FrameTestClient.Encode("two"u8), .. FrameTestClient.Encode("bye"u8)]);

        Assert.Equal("one", Encoding.ASCII.GetString((await client.ReadRequiredFrameAsync()).Payload));
        Assert.Equal("two", Encoding.ASCII.GetString((await client.ReadRequiredFrameAsync()).Payload));
        Assert.Equal("bye", Encoding.ASCII.GetString((await client.ReadRequiredFrameAsync()).Payload));
        Assert.Equal(FrameStatus.ShuttingDown, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
        Assert.Equal(FrameCloseReason.ApplicationRequested, (await lifecycle.Closing.Reader.ReadAsync()).Reason);
    }

    [Fact]
    public async Task A_request_sent_after_the_close_runs_nowhere_and_the_connection_still_ends_without_a_reset()
    {
        var handled = new ConcurrentQueue<string>();
        var lifecycle = new RecordingLifecycle();
        await using var server = StartWithByeHandler(lifecycle, handled);
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync("bye"u8);
        await client.ReadRequiredFrameAsync();
        Assert.Equal(FrameStatus.ShuttingDown, (await client.ReadRequiredFrameAsync()).Status);

        // The server lingers, reading and discarding: the late request is neither handled nor met with a reset.
        await client.SendFrameAsync("late"u8);

        Assert.True(await client.IsClosedByServerAsync());
        await lifecycle.Closing.Reader.ReadAsync();
        Assert.Equal(["bye"], handled);
    }

    [Fact]
    public async Task A_close_requested_on_connect_ends_the_connection_with_ShuttingDown_before_any_request()
    {
        var lifecycle = new RecordingLifecycle { OnConnected = connection => connection.RequestClose() };
        await using var server = TestFrameServer.Start(services: services => services.AddSingleton<IFrameConnectionLifecycle>(lifecycle));
        using var client = await server.ConnectAsync();

        Assert.Equal(FrameStatus.ShuttingDown, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
        Assert.Equal(FrameCloseReason.ApplicationRequested, (await lifecycle.Closing.Reader.ReadAsync()).Reason);
    }

    [Fact]
    public async Task A_close_requested_on_a_connection_that_has_ended_throws_nothing_and_the_server_serves_on()
    {
        var lifecycle = new RecordingLifecycle();
        await using var server = TestFrameServer.Start(services: services => services.AddSingleton<IFrameConnectionLifecycle>(lifecycle));
        using (var client = await server.ConnectAsync())
        {
            await client.SendFrameAsync("x"u8);
            await client.ReadRequiredFrameAsync();
        }

        // A handler may keep the connection past its end: by now it has run to completion.
        FrameConnectionInfo ended = (await lifecycle.Closing.Reader.ReadAsync()).Connection;
        await server.Services.GetRequiredService<ConnectionManager>().WhenEmptyAsync();
        ended.RequestClose();
        ended.RequestClose();

        using var next = await server.ConnectAsync();
        await next.SendFrameAsync("still serving"u8);
        Assert.Equal("still serving", Encoding.ASCII.GetString((await next.ReadRequiredFrameAsync()).Payload));
    }

    private static TestFrameServer StartWithByeHandler(RecordingLifecycle lifecycle, ConcurrentQueue<string> handled) =>
        TestFrameServer.Start(services: services =>
        {
            services.AddSingleton<IFrameConnectionLifecycle>(lifecycle);
            DelegateFrameHandler.Use((frame, _) =>
            {
                string request = Encoding.ASCII.GetString(frame.Request.Span);
                handled.Enqueue(request);
                if (request == "bye")
                {
                    frame.Connection.RequestClose();
                }

                frame.RespondWithRequest();
                return ValueTask.CompletedTask;
            })(services);
        });
}
