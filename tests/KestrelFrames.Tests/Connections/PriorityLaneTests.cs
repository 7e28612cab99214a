using System.Text;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace KestrelFrames.Tests.Connections;

/// <summary>
/// Priority lanes over TCP: a classifier (<see cref="PrefixLaneClassifier"/>: "high..." goes to lane "high") and
/// Frames:Lanes, with a handler that holds every default-lane request until the test opens the gate. Two workers,
/// one of them reserved for "high", so one gated request fills the shared share.
/// </summary>
public sealed class PriorityLaneTests : IDisposable
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _highHandled = new(0);

    public void Dispose()
    {
        _gate.TrySetResult();
        _highHandled.Dispose();
    }

    [Fact]
    public async Task In_shed_mode_a_full_default_lane_answers_Busy_while_the_high_lane_is_answered_at_once()
    {
        await using var server = Start("Shed");
        using var _ = OpenGateAtEnd();
        using var running = await server.ConnectAsync();
        using var queued = await server.ConnectAsync();
        using var shed = await server.ConnectAsync();
        using var urgent = await server.ConnectAsync();
        await running.SendFrameAsync("d-running"u8);
        await _firstHeld.Task.WaitAsync(s_hangGuard);
        await queued.SendFrameAsync("d-queued"u8);
        await MetricsScrape.ScrapeUntilAsync(server, text => MetricsScrape.Sample(text, "frames_lane_queue_length{lane=\"default\"}") == 1);

        await shed.SendFrameAsync("d-shed"u8);
        await urgent.SendFrameAsync("high-1"u8);

        Assert.Equal(FrameStatus.Busy, (await shed.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)).Status);
        Assert.Equal("high-1", Text(await urgent.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
        _gate.SetResult();
        Assert.Equal("d-running", Text(await running.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
        Assert.Equal("d-queued", Text(await queued.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
    }

    [Fact]
    public async Task In_backpressure_mode_a_full_default_lane_stalls_its_connection_while_the_high_lane_is_answered_at_once()
    {
        await using var server = Start("Backpressure");
        using var _ = OpenGateAtEnd();
        using var running = await server.ConnectAsync();
        using var queued = await server.ConnectAsync();
        using var stalled = await server.ConnectAsync();
        using var urgent = await server.ConnectAsync();
        await running.SendFrameAsync("d-running"u8);
        await _firstHeld.Task.WaitAsync(s_hangGuard);
        await queued.SendFrameAsync("d-queued"u8);
        await MetricsScrape.ScrapeUntilAsync(server, text => MetricsScrape.Sample(text, "frames_lane_queue_length{lane=\"default\"}") == 1);

        await stalled.SendFrameAsync("d-stalled"u8);
        await urgent.SendFrameAsync("high-1"u8);

        Assert.Equal("high-1", Text(await urgent.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
        _gate.SetResult();
        Assert.Equal("d-running", Text(await running.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
        Assert.Equal("d-queued", Text(await queued.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
        Assert.Equal("d-stalled", Text(await stalled.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
    }

    [Fact]
    public async Task Requests_of_both_lanes_on_one_connection_run_in_their_lanes_and_are_answered_in_request_order()
    {
        await using var server = Start("Backpressure");
        using var _ = OpenGateAtEnd();
        using var other = await server.ConnectAsync();
        using var queued = await server.ConnectAsync();
        using var mixed = await server.ConnectAsync();
        await other.SendFrameAsync("d-other"u8);
        await _firstHeld.Task.WaitAsync(s_hangGuard);
        await queued.SendFrameAsync("d-queued"u8);
        await MetricsScrape.ScrapeUntilAsync(server, text => MetricsScrape.Sample(text, "frames_lane_queue_length{lane=\"default\"}") == 1);

        // One write, so one read and one batch per lane. The default lane is full, so its request holds the read
        // loop (backpressure); the high lane's batch goes to the pool first and runs on the reserved worker.
        await mixed.SendRawAsync([.. FrameTestClient.Encode("d-first"u8), .. FrameTestClient.Encode("high-2"u8), .. FrameTestClient.Encode("high-3"u8)]);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(await _highHandled.WaitAsync(s_hangGuard), "the high lane's requests did not run while the default lane was held");
        }

        _gate.SetResult();
        Assert.Equal("d-other", Text(await other.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
        Assert.Equal("d-queued", Text(await queued.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
        Assert.Equal("d-first", Text(await mixed.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
        Assert.Equal("high-2", Text(await mixed.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
        Assert.Equal("high-3", Text(await mixed.ReadRequiredFrameAsync().WaitAsync(s_hangGuard)));
    }

    /// <summary>Opens the gate before the server is disposed (after this), so a failed test does not wait out the drain.</summary>
    private GateOpener OpenGateAtEnd() => new(_gate);

    private TestFrameServer Start(string overloadMode) => TestFrameServer.Start(
        new Dictionary<string, string?>
        {
            ["Frames:OverloadMode"] = overloadMode,
            ["Frames:Workers"] = "2",
            ["Frames:QueueCapacity"] = "1",
            ["Frames:Lanes:high:Priority"] = "10",
            ["Frames:Lanes:high:QueueCapacity"] = "4",
            ["Frames:Lanes:high:ReservedWorkers"] = "1",
        },
        services =>
        {
            services.AddSingleton<IFrameLaneClassifier, PrefixLaneClassifier>();
            DelegateFrameHandler.Use(HandleAsync)(services);
        });

    private async ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken)
    {
        if (frame.Request.Span.StartsWith("high"u8))
        {
            await DelegateFrameHandler.Echo(frame);
            _highHandled.Release();
            return;
        }

        _firstHeld.TrySetResult();
        await _gate.Task;
        await DelegateFrameHandler.Echo(frame);
    }

    private static string Text(Frame answer)
    {
        Assert.False(answer.IsStatus, $"expected an echo, got {answer}");
        return Encoding.UTF8.GetString(answer.Payload);
    }

    private sealed class GateOpener(TaskCompletionSource gate) : IDisposable
    {
        public void Dispose() => gate.TrySetResult();
    }
}
