using KestrelFrames.Connections;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Connections;

public sealed class IdleTimeoutTests
{
    private static readonly Dictionary<string, string?> s_settings = new() { ["Frames:IdleTimeout"] = "00:00:30" };

    [Fact]
    public async Task A_connection_with_nothing_to_do_for_the_idle_timeout_gets_idle_timeout_and_is_closed()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(s_settings, time: time);
        using var client = await server.ConnectAsync();
        await client.SendFrameAsync([]); // A heartbeat's answer proves the server has this connection.
        await client.ReadRequiredFrameAsync();

        time.Advance(TimeSpan.FromSeconds(30) + FrameHeartbeat.Interval);

        Assert.Equal(FrameStatus.IdleTimeout, (await client.ReadRequiredFrameAsync()).Status);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Heartbeats_keep_a_connection_alive_past_the_idle_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(s_settings, time: time);
        using var client = await server.ConnectAsync();

        for (int i = 0; i < 5; i++)
        {
            await client.SendFrameAsync([]);
            await client.ReadRequiredFrameAsync();
            time.Advance(TimeSpan.FromSeconds(20));
        }

        await client.SendFrameAsync("still here"u8);
        Assert.Equal("still here"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
    }

    [Fact]
    public async Task A_request_still_running_is_not_idle()
    {
        var time = new FakeTimeProvider();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = TestFrameServer.Start(s_settings, DelegateFrameHandler.Use(async (frame, _) =>
        {
            started.TrySetResult();
            await gate.Task;
            await DelegateFrameHandler.Echo(frame);
        }), time);
        using var client = await server.ConnectAsync();
        using var closures = new ConnectionClosures(server);

        await client.SendFrameAsync("slow"u8);
        await started.Task;
        time.Advance(TimeSpan.FromMinutes(5));
        gate.SetResult();

        Assert.Equal("slow"u8.ToArray(), (await client.ReadRequiredFrameAsync()).Payload);
        Assert.Equal(0, closures.Count);
    }
}
