using KestrelFrames.Connections;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Hosting;

/// <summary>
/// Each limit edited in the configuration of a running server, and what the next connection or request then meets:
/// every test here fails on a server that reads its options once at start. The edit is a reload of a configuration
/// source, as a saved appsettings.json raises; LiveConfigurationProcessTests edits the real file.
/// </summary>
public sealed class LiveLimitsTests
{
    private readonly ReloadableSettings _settings = new();

    [Fact]
    public async Task Lowering_max_connections_refuses_the_next_connection_and_the_gauge_shows_the_new_limit()
    {
        await using var server = TestFrameServer.Start(configuration: _settings.AddTo);
        using var first = await server.ConnectAsync();
        await AssertEchoAsync(first, "first");

        _settings.Change(("Frames:MaxConnections", "1"));

        using var second = await server.ConnectAsync();
        Assert.Equal(FrameStatus.ConnectionLimit, (await second.ReadRequiredFrameAsync()).Status);
        await AssertEchoAsync(first, "the open one stays");
        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsScrape.Sample(metrics, "frames_max_connections"));
        Assert.Equal(1, MetricsScrape.Sample(metrics, "frames_connections_rejected_total{reason=\"connection_limit\"}"));
    }

    [Fact]
    public async Task A_per_ip_limit_turned_on_counts_the_connections_already_open()
    {
        await using var server = TestFrameServer.Start(configuration: _settings.AddTo);
        using var first = await server.ConnectAsync();
        using var second = await server.ConnectAsync();
        await AssertEchoAsync(first, "first");
        await AssertEchoAsync(second, "second");

        _settings.Change(("Frames:MaxConnectionsPerIp", "2"));

        using var third = await server.ConnectAsync();
        Assert.Equal(FrameStatus.ConnectionLimit, (await third.ReadRequiredFrameAsync()).Status);
        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(1, MetricsScrape.Sample(metrics, "frames_connections_rejected_total{reason=\"per_ip_limit\"}"));
    }

    [Fact]
    public async Task Raising_max_frame_size_lets_a_larger_frame_through_on_a_new_connection()
    {
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:MaxFrameSize"] = "1024" }, configuration: _settings.AddTo);
        using (var before = await server.ConnectAsync())
        {
            await before.SendFrameAsync(new byte[2048]);
            Assert.Equal(FrameStatus.FrameTooLarge, (await before.ReadRequiredFrameAsync()).Status);
        }

        _settings.Change(("Frames:MaxFrameSize", "4096"));

        using var after = await server.ConnectAsync();
        await after.SendFrameAsync(new byte[2048]);
        Frame answer = await after.ReadRequiredFrameAsync();
        Assert.False(answer.IsStatus, $"expected the echo, got {answer}");
        Assert.Equal(2048, answer.Payload.Length);
    }

    [Fact]
    public async Task A_request_rate_limit_turned_on_answers_busy_rate_limit_on_a_new_connection()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(time: time, configuration: _settings.AddTo);

        _settings.Change(("Frames:RateLimit:RequestsPerSecond", "1"), ("Frames:RateLimit:Burst", "1"));

        using var client = await server.ConnectAsync();
        await client.SendRawAsync([.. FrameTestClient.Encode("r0"u8), .. FrameTestClient.Encode("r1"u8)]);
        await AssertEchoAsync(client, "r0", sent: true);
        Frame refused = await client.ReadRequiredFrameAsync();
        Assert.Equal(FrameStatus.Busy, refused.Status);
        Assert.Equal("rate limit", refused.Reason);

        // Turned off again, the connection that holds a partition is no longer limited.
        _settings.Change(("Frames:RateLimit:RequestsPerSecond", "0"));
        await client.SendRawAsync([.. FrameTestClient.Encode("r2"u8), .. FrameTestClient.Encode("r3"u8)]);
        await AssertEchoAsync(client, "r2", sent: true);
        await AssertEchoAsync(client, "r3", sent: true);
    }

    [Fact]
    public async Task A_connection_rate_limit_turned_on_refuses_the_next_connection_over_it()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(time: time, configuration: _settings.AddTo);

        _settings.Change(("Frames:RateLimit:ConnectionsPerSecond", "1"));

        using var first = await server.ConnectAsync();
        await AssertEchoAsync(first, "first");
        using var second = await server.ConnectAsync();
        Frame refusal = await second.ReadRequiredFrameAsync();
        Assert.Equal(FrameStatus.ConnectionLimit, refusal.Status);
        Assert.Equal("connection rate", refusal.Reason);
    }

    [Fact]
    public async Task Switching_to_shed_answers_busy_where_backpressure_waited_and_a_raised_buffer_budget_admits_again()
    {
        var handler = new GatedEcho();
        await using var server = TestFrameServer.Start(
            new Dictionary<string, string?> { ["Frames:MaxFrameSize"] = "100", ["Frames:MaxBufferedBytes"] = "100" },
            handler.Handler,
            configuration: _settings.AddTo);
        using var holder = await server.ConnectAsync();
        await holder.SendFrameAsync(new byte[100]);
        await handler.FirstCall; // The budget is spent until the gate opens.

        _settings.Change(("Frames:OverloadMode", "Shed"));

        using var shed = await server.ConnectAsync();
        await shed.SendFrameAsync(new byte[100]);
        Assert.Equal(FrameStatus.Busy, (await shed.ReadRequiredFrameAsync()).Status);

        _settings.Change(("Frames:MaxBufferedBytes", "1000"));

        await shed.SendFrameAsync(new byte[100]);
        handler.Open();
        Assert.Equal(100, (await holder.ReadRequiredFrameAsync()).Payload.Length);
        Frame admitted = await shed.ReadRequiredFrameAsync();
        Assert.False(admitted.IsStatus, $"expected the echo, got {admitted}");
        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Equal(1000, MetricsScrape.Sample(metrics, "frames_max_buffered_bytes"));
    }

    [Fact]
    public async Task A_lowered_idle_timeout_applies_to_connections_opened_after_it_and_not_to_those_before()
    {
        var time = new FakeTimeProvider();
        await using var server = TestFrameServer.Start(new Dictionary<string, string?> { ["Frames:IdleTimeout"] = "00:01:00" }, time: time, configuration: _settings.AddTo);
        using var before = await server.ConnectAsync();
        await AssertHeartbeatAsync(before); // The server has the connection, on the clock as it is now.

        _settings.Change(("Frames:IdleTimeout", "00:00:05"));

        using var after = await server.ConnectAsync();
        await AssertHeartbeatAsync(after);
        time.Advance(TimeSpan.FromSeconds(5) + FrameHeartbeat.Interval);

        Assert.Equal(FrameStatus.IdleTimeout, (await after.ReadRequiredFrameAsync()).Status);
        await AssertEchoAsync(before, "still open: it keeps the minute it opened with");
    }

    private static async Task AssertEchoAsync(FrameTestClient client, string text, bool sent = false)
    {
        byte[] payload = System.Text.Encoding.UTF8.GetBytes(text);
        if (!sent)
        {
            await client.SendFrameAsync(payload);
        }

        Frame answer = await client.ReadRequiredFrameAsync();
        Assert.False(answer.IsStatus, $"expected the echo of '{text}', got {answer}");
        Assert.Equal(payload, answer.Payload);
    }

    private static async Task AssertHeartbeatAsync(FrameTestClient client)
    {
        await client.SendFrameAsync([]);
        Assert.Empty((await client.ReadRequiredFrameAsync()).Payload);
    }
}
