using System.Threading.Channels;
using KestrelFrames.Client;
using KestrelFrames.Connections;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

/// <summary>
/// The server and the client share one fake clock: advancing it fires the server's idle check and the client's
/// heartbeat timer alike. After each step the test awaits the heartbeat's answer, so the server has seen it before
/// the clock moves on.
/// </summary>
public sealed class FrameClientHeartbeatTests
{
    private static readonly Dictionary<string, string?> s_idleAfter30Seconds = new() { ["Frames:IdleTimeout"] = "00:00:30" };

    [Fact]
    public async Task Heartbeats_keep_an_idle_client_connected_well_past_the_servers_idle_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(s_idleAfter30Seconds, time: time);
        using var closures = new ConnectionClosures(server);
        await using FrameClient client = await ConnectAsync(server, new FrameClientOptions
        {
            HeartbeatInterval = TimeSpan.FromSeconds(10),
            TimeProvider = time,
        });
        var answered = Channel.CreateUnbounded<bool>();
        client.HeartbeatAnswered = () => answered.Writer.TryWrite(true);

        for (int i = 0; i < 12; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            await answered.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }

        // Two minutes of fake time, four idle timeouts, and still the same connection.
        Assert.Equal("still here", Text(await client.SendAsync("still here"u8.ToArray())));
        Assert.Equal(0, closures.Count);
    }

    [Fact]
    public async Task A_busy_client_sends_no_heartbeats()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(s_idleAfter30Seconds, time: time);
        await using FrameClient client = await ConnectAsync(server, new FrameClientOptions
        {
            HeartbeatInterval = TimeSpan.FromSeconds(10),
            TimeProvider = time,
        });
        int heartbeats = 0;
        client.HeartbeatAnswered = () => Interlocked.Increment(ref heartbeats);

        for (int i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(9));
            Assert.Equal(TagText(i), Text(await client.SendAsync(Tag(i))));
        }

        await client.PingAsync(); // Any heartbeat sent would have been answered before this.
        Assert.Equal(0, Volatile.Read(ref heartbeats));
    }

    [Fact]
    public async Task Without_heartbeats_an_idle_client_is_closed_with_idle_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(s_idleAfter30Seconds, time: time);
        using var closures = new ConnectionClosures(server);
        await using FrameClient client = await ConnectAsync(server, new FrameClientOptions { TimeProvider = time });

        time.Advance(TimeSpan.FromSeconds(30) + FrameHeartbeat.Interval);
        await closures.WaitAsync(1);

        var closed = await Assert.ThrowsAsync<FrameConnectionClosedException>(async () => await client.SendAsync("too late"u8.ToArray()));
        Assert.Equal(FrameStatus.IdleTimeout, closed.StatusCode);
        Assert.False(closed.WasProcessed);
    }
}
