using System.Text;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using static KestrelFrames.Tests.Infrastructure.PoolHarness;

namespace KestrelFrames.Tests.Processing;

/// <summary>
/// The worker pool's priority lanes, fed directly with answer slots as in <see cref="WorkerPoolTests"/>. Requests
/// whose text starts with "d" are held by the gate until the test opens it; the others run at once. A slot's lane is
/// set as the read loop sets it.
/// </summary>
public sealed class WorkerPoolLaneTests : IDisposable
{
    private readonly PoolHarness _h = new("lane-test");
    private int _runningGated;
    private long _mostRunningGated;

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task A_free_worker_takes_the_higher_lanes_work_before_what_waited_longer_in_the_default_lane()
    {
        var pool = NewPool(workers: 1, new() { ["high"] = new FrameLaneOptions { Priority = 10 } });
        FrameWorkItem[] requests = [Request(pool, "d-running"), Request(pool, "d-queued-1"), Request(pool, "d-queued-2"), Request(pool, "h-late", "high")];
        Assert.True(pool.TrySubmit(requests[0]));
        await _h.StartedAsync(1);
        for (int i = 1; i < requests.Length; i++)
        {
            Assert.True(pool.TrySubmit(requests[i]));
        }

        _h.OpenGate();

        foreach (FrameWorkItem request in requests)
        {
            Assert.Null(await AnsweredAsync(request));
        }

        Assert.Equal(["d-running", "h-late", "d-queued-1", "d-queued-2"], _h.Started);
    }

    [Fact]
    public async Task A_lane_below_the_default_runs_only_when_the_default_lane_is_empty()
    {
        var pool = NewPool(workers: 1, new() { ["low"] = new FrameLaneOptions { Priority = -1 } });
        FrameWorkItem[] requests = [Request(pool, "d-running"), Request(pool, "l-first", "low"), Request(pool, "d-second")];
        Assert.True(pool.TrySubmit(requests[0]));
        await _h.StartedAsync(1);
        Assert.True(pool.TrySubmit(requests[1]));
        Assert.True(pool.TrySubmit(requests[2]));

        _h.OpenGate();

        foreach (FrameWorkItem request in requests)
        {
            Assert.Null(await AnsweredAsync(request));
        }

        Assert.Equal(["d-running", "d-second", "l-first"], _h.Started);
    }

    [Fact]
    public async Task Reserved_workers_run_the_lanes_requests_while_the_default_lane_holds_every_shared_worker()
    {
        var pool = NewPool(workers: 3, new() { ["high"] = new FrameLaneOptions { Priority = 1, ReservedWorkers = 1 } });
        FrameWorkItem[] held = [Request(pool, "d-1"), Request(pool, "d-2"), Request(pool, "d-3")];
        foreach (FrameWorkItem request in held)
        {
            Assert.True(pool.TrySubmit(request));
        }

        await _h.StartedAsync(2);
        Assert.Equal(1, pool.Lanes[0].Count); // The third waits: the default lane may not use the reserved worker.
        FrameWorkItem urgent = Request(pool, "h-urgent", "high");

        Assert.True(pool.TrySubmit(urgent));

        // Answered while both shared workers are still held by the gate.
        Assert.Null(await AnsweredAsync(urgent));
        Assert.All(held, r => Assert.False(r.IsCompleted));
        _h.OpenGate();
        foreach (FrameWorkItem request in held)
        {
            Assert.Null(await AnsweredAsync(request));
        }

        Assert.Equal(2, Interlocked.Read(ref _mostRunningGated));
    }

    [Fact]
    public async Task A_lane_uses_the_shared_workers_too_when_they_are_free()
    {
        var pool = NewPool(workers: 3, new() { ["high"] = new FrameLaneOptions { Priority = 1, ReservedWorkers = 1 } });
        FrameWorkItem[] held = [Request(pool, "d-h1", "high"), Request(pool, "d-h2", "high"), Request(pool, "d-h3", "high")];

        foreach (FrameWorkItem request in held)
        {
            Assert.True(pool.TrySubmit(request));
        }

        await _h.StartedAsync(3);
        Assert.Equal(3, pool.BusyWorkers);
        _h.OpenGate();
        foreach (FrameWorkItem request in held)
        {
            Assert.Null(await AnsweredAsync(request));
        }
    }

    [Fact]
    public async Task A_full_lane_refuses_only_its_own_requests_and_says_when_it_has_room()
    {
        var pool = NewPool(workers: 1, new() { ["high"] = new FrameLaneOptions { Priority = 1, QueueCapacity = 1 } }, queueCapacity: 1);
        FrameWorkItem running = Request(pool, "d-running");
        FrameWorkItem queued = Request(pool, "d-queued");
        FrameWorkItem refused = Request(pool, "d-refused");
        FrameWorkItem high = Request(pool, "h-accepted", "high");
        int highLane = high.Lane;
        pool.TrySubmit(running);
        await _h.StartedAsync(1);
        Assert.True(pool.TrySubmit(queued));

        Assert.False(pool.TrySubmit(refused));
        Task<bool> defaultSpace = pool.WaitForSpaceAsync(0, CancellationToken.None).AsTask();
        Assert.True(pool.WaitForSpaceAsync(highLane, CancellationToken.None).AsTask().IsCompleted);
        Assert.True(pool.TrySubmit(high));
        Assert.False(defaultSpace.IsCompleted);
        Assert.False(pool.WaitForSpaceAsync(highLane, CancellationToken.None).AsTask().IsCompleted); // Now that lane is full.

        _h.OpenGate();
        Assert.True(await defaultSpace.WaitAsync(PoolHarness.HangGuard));
        Assert.True(pool.TrySubmit(refused));
        foreach (FrameWorkItem request in new[] { running, high, queued, refused })
        {
            Assert.Null(await AnsweredAsync(request));
        }
    }

    [Fact]
    public async Task Stopping_finishes_the_queued_and_running_work_of_every_lane()
    {
        var pool = NewPool(workers: 2, new()
        {
            ["high"] = new FrameLaneOptions { Priority = 1, ReservedWorkers = 1 },
            ["low"] = new FrameLaneOptions { Priority = -1 },
        });
        await pool.StartAsync(CancellationToken.None);
        FrameWorkItem[] requests =
        [
            Request(pool, "d-running"), Request(pool, "d-h-running", "high"),
            Request(pool, "d-queued"), Request(pool, "d-h-queued", "high"), Request(pool, "d-l-queued", "low"),
        ];
        foreach (FrameWorkItem request in requests)
        {
            Assert.True(pool.TrySubmit(request));
        }

        await _h.StartedAsync(2);

        Task stopping = pool.StopAsync(CancellationToken.None);

        Assert.False(stopping.IsCompleted);
        Assert.False(pool.TrySubmit(Request(pool, "h-too-late", "high")));
        Assert.False(await pool.WaitForSpaceAsync(requests[1].Lane, CancellationToken.None).AsTask().WaitAsync(PoolHarness.HangGuard));
        _h.OpenGate();
        await stopping.WaitAsync(PoolHarness.HangGuard);
        Assert.All(requests, r => Assert.True(r.IsCompleted));
        Assert.All(requests, r => Assert.Null(r.Status));
        Assert.Equal(0, pool.QueueLength);
        Assert.False(pool.IsRunning);
    }

    [Fact]
    public async Task Without_a_classifier_the_lanes_are_ignored_with_a_warning_and_every_worker_serves_the_default_lane()
    {
        var options = new FrameServerOptions { Workers = 2 };
        options.Lanes["high"] = new FrameLaneOptions { Priority = 1, ReservedWorkers = 1 };
        var pool = new WorkerPool(Options.Create(options), new DelegateFrameHandler(HandleAsync), _h.Parts.Time, _h.Logger);
        _h.Add(pool);

        await pool.StartAsync(CancellationToken.None);
        FrameWorkItem[] held = [Request(pool, "d-1"), Request(pool, "d-2")];
        foreach (FrameWorkItem request in held)
        {
            pool.TrySubmit(request);
        }

        await _h.StartedAsync(2);
        Assert.Single(pool.Lanes);
        Assert.Null(pool.Router);
        Assert.Contains(_h.Logger.Collector.GetSnapshot(), r => r.Message.Contains("no IFrameLaneClassifier is registered", StringComparison.Ordinal));
        _h.OpenGate();
        await pool.StopAsync(CancellationToken.None);
    }

    private WorkerPool NewPool(int workers, Dictionary<string, FrameLaneOptions> lanes, int queueCapacity = 8)
    {
        var options = new FrameServerOptions { Workers = workers, QueueCapacity = queueCapacity };
        foreach ((string name, FrameLaneOptions lane) in lanes)
        {
            options.Lanes[name] = lane;
        }

        var pool = new WorkerPool(Options.Create(options), new DelegateFrameHandler(HandleAsync), _h.Parts.Time, _h.Logger, new PrefixLaneClassifier());
        return _h.Add(pool);
    }

    private FrameWorkItem Request(WorkerPool pool, string text, string? lane = null)
    {
        var slot = new FrameWorkItem(_h.Connection);
        _h.Parts.SetRequest(slot, Encoding.UTF8.GetBytes(text));
        slot.Lane = lane is null ? 0 : pool.Lanes.Single(l => l.Name == lane).Index;
        return slot;
    }

    /// <summary>Records the request; one whose text starts with "d" is held (counted as running) until the gate opens.</summary>
    private async ValueTask HandleAsync(FrameContext frame, CancellationToken cancellationToken)
    {
        string text = Encoding.UTF8.GetString(frame.Request.Span);
        _h.RecordStart(text);
        if (text.StartsWith('d'))
        {
            AtomicMax.Raise(ref _mostRunningGated, Interlocked.Increment(ref _runningGated));
            await _h.Gate;
            Interlocked.Decrement(ref _runningGated);
        }

        await DelegateFrameHandler.Echo(frame);
    }


}
