using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using KestrelFrames.Processing;
using KestrelFrames.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using static KestrelFrames.Tests.Infrastructure.PoolHarness;

namespace KestrelFrames.Tests.Processing;

/// <summary>
/// The worker pool fed directly with answer slots of an unrun connection: no socket, no read loop. The pool does not
/// know the overload mode: it refuses a submission when its queue is full and says when there is room again, and the
/// connection turns that into Busy (Shed) or a pause (Backpressure).
/// </summary>
public sealed class WorkerPoolTests : IDisposable
{
    private readonly PoolHarness _h = new("pool-test");
    private int _running;
    private long _mostRunning;

    public void Dispose() => _h.Dispose();

    [Fact]
    public async Task A_submitted_request_runs_the_handler_and_its_slot_carries_the_handlers_answer()
    {
        var pool = NewPool(workers: 4, queueCapacity: 4, async (frame, _) =>
        {
            frame.Response.Write("echo: "u8);
            await DelegateFrameHandler.Echo(frame);
        });
        FrameWorkItem request = Request("hello");

        Assert.True(pool.TrySubmit(request));

        Assert.Null(await AnsweredAsync(request));
        Assert.Equal(FrameTestClient.Encode("echo: hello"u8), await WrittenAsync(request));
    }

    [Fact]
    public async Task The_requests_of_a_batch_run_in_order_and_each_completes_its_own_slot()
    {
        var pool = NewPool(workers: 1, queueCapacity: 1, Record);
        FrameWorkItem[] batch = Batch("a", "b", "c");

        Assert.True(pool.TrySubmit(batch[0]));

        foreach (FrameWorkItem request in batch)
        {
            Assert.Null(await AnsweredAsync(request));
        }

        Assert.Equal(["a", "b", "c"], _h.Started);
    }

    [Theory]
    [InlineData("throws before returning")]
    [InlineData("returns a faulted task")]
    [InlineData("faults after going asynchronous")]
    public async Task A_failing_handler_answers_HandlerError_for_its_own_request_only(string failure)
    {
        var pool = NewPool(workers: 1, queueCapacity: 4, (frame, ct) => Text(frame) == "boom" ? Fail(failure) : Record(frame, ct));
        FrameWorkItem[] batch = Batch("before", "boom", "after");
        FrameWorkItem later = Request("later");

        pool.TrySubmit(batch[0]);

        Assert.Null(await AnsweredAsync(batch[0]));
        Assert.Equal(FrameStatus.HandlerError, await AnsweredAsync(batch[1]));
        Assert.Null(await AnsweredAsync(batch[2]));
        Assert.True(pool.TrySubmit(later));
        Assert.Null(await AnsweredAsync(later));
        Assert.Equal(["before", "after", "later"], _h.Started);
        FakeLogRecord error = Assert.Single(_h.Logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error);
        Assert.Contains("pool-test", error.Message, StringComparison.Ordinal);
        Assert.IsType<InvalidOperationException>(error.Exception);
    }

    [Fact]
    public async Task At_most_Workers_handlers_run_at_once_and_the_rest_wait_in_the_queue()
    {
        var pool = NewPool(workers: 2, queueCapacity: 8, Gated);
        FrameWorkItem[] requests = [Request("1"), Request("2"), Request("3"), Request("4"), Request("5")];

        foreach (FrameWorkItem request in requests)
        {
            Assert.True(pool.TrySubmit(request));
        }

        await _h.StartedAsync(2);
        Assert.Equal(2, pool.BusyWorkers);
        Assert.Equal(3, pool.QueueLength);
        Assert.Equal(2, _h.Started.Count);

        _h.OpenGate();
        foreach (FrameWorkItem request in requests)
        {
            Assert.Null(await AnsweredAsync(request));
        }

        Assert.Equal(2, Interlocked.Read(ref _mostRunning));
        Assert.Equal(5, _h.Started.Count);
    }

    [Fact]
    public async Task A_full_queue_refuses_a_submission_and_leaves_the_request_untouched_until_there_is_room()
    {
        var pool = NewPool(workers: 1, queueCapacity: 1, Gated);
        FrameWorkItem running = Request("running");
        FrameWorkItem queued = Request("queued");
        FrameWorkItem refused = Request("refused");
        pool.TrySubmit(running);
        await _h.StartedAsync(1);

        Assert.True(pool.TrySubmit(queued));
        Assert.False(pool.TrySubmit(refused));
        Assert.False(refused.IsCompleted);
        Assert.Equal(pool.QueueCapacity, pool.QueueLength);

        Task<bool> space = pool.WaitForSpaceAsync(CancellationToken.None).AsTask();
        Assert.False(space.IsCompleted);
        _h.OpenGate();

        Assert.True(await space.WaitAsync(PoolHarness.HangGuard));
        Assert.True(pool.TrySubmit(refused));
        Assert.Null(await AnsweredAsync(refused));
        Assert.Equal(["running", "queued", "refused"], _h.Started);
    }

    [Fact]
    public async Task A_slow_request_hands_the_rest_of_its_batch_to_another_worker()
    {
        var pool = NewPool(workers: 2, queueCapacity: 4, (frame, ct) => Text(frame) == "slow" ? Gated(frame, ct) : Record(frame, ct));
        FrameWorkItem[] batch = Batch("slow", "fast");

        pool.TrySubmit(batch[0]);

        Assert.Null(await AnsweredAsync(batch[1]));
        Assert.False(batch[0].IsCompleted);
        _h.OpenGate();
        Assert.Null(await AnsweredAsync(batch[0]));
    }

    [Fact]
    public async Task With_one_worker_the_rest_of_a_batch_waits_behind_its_slow_request()
    {
        var pool = NewPool(workers: 1, queueCapacity: 4, Gated);
        FrameWorkItem[] batch = Batch("slow", "next");

        pool.TrySubmit(batch[0]);
        await _h.StartedAsync(1);

        Assert.False(batch[1].IsCompleted); // Handed back to the queue, for a worker that is not there.
        _h.OpenGate();
        Assert.Null(await AnsweredAsync(batch[1]));
        Assert.Equal(["slow", "next"], _h.Started);
    }

    [Fact]
    public async Task A_batch_that_finishes_synchronously_is_released_last_first_so_the_writer_finds_every_answer_ready()
    {
        var pool = NewPool(workers: 1, queueCapacity: 1, Record);
        FrameWorkItem[] batch = Batch("a", "b", "c");
        Task<bool> restReadyWhenHeadSignalled = WhenSignalledAsync(batch[0], () => batch[1].IsCompleted && batch[2].IsCompleted);

        pool.TrySubmit(batch[0]);

        Assert.True(await restReadyWhenHeadSignalled.WaitAsync(PoolHarness.HangGuard));
    }

    [Fact]
    public async Task The_handler_gets_the_connections_abort_token_and_its_slot_still_completes_when_the_connection_is_aborted()
    {
        var pool = NewPool(workers: 1, queueCapacity: 1, async (frame, ct) =>
        {
            Started(frame);
            await Task.Delay(Timeout.Infinite, ct);
        });
        FrameWorkItem request = Request("held");
        pool.TrySubmit(request);
        await _h.StartedAsync(1);

        _h.Connection.AbortForShutdown();

        Assert.Equal(FrameStatus.HandlerError, await AnsweredAsync(request));
        // The handler honoured the token of a connection that is gone: an ordinary disconnect, not an Error line.
        Assert.DoesNotContain(_h.Logger.Collector.GetSnapshot(), r => r.Level >= LogLevel.Warning);
        Assert.Contains(_h.Logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Debug && r.Message.Contains("aborted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_handler_that_cancels_on_its_own_while_the_connection_lives_is_logged_as_a_failure()
    {
        var pool = NewPool(workers: 1, queueCapacity: 1, (frame, ct) => throw new OperationCanceledException("handler's own timeout"));
        FrameWorkItem request = Request("own timeout");

        pool.TrySubmit(request);

        Assert.Equal(FrameStatus.HandlerError, await AnsweredAsync(request));
        Assert.Single(_h.Logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Error);
    }

    [Fact]
    public async Task Stopping_finishes_running_and_queued_requests_and_refuses_new_ones()
    {
        var pool = NewPool(workers: 1, queueCapacity: 4, Gated);
        await pool.StartAsync(CancellationToken.None);
        FrameWorkItem running = Request("running");
        FrameWorkItem queued = Request("queued");
        pool.TrySubmit(running);
        pool.TrySubmit(queued);
        await _h.StartedAsync(1);

        Task stopping = pool.StopAsync(CancellationToken.None);

        Assert.False(stopping.IsCompleted);
        Assert.True(pool.IsRunning);
        Assert.False(pool.TrySubmit(Request("too late")));
        Assert.False(await pool.WaitForSpaceAsync(CancellationToken.None).AsTask().WaitAsync(PoolHarness.HangGuard));

        _h.OpenGate();
        await stopping.WaitAsync(PoolHarness.HangGuard);
        Assert.True(running.IsCompleted);
        Assert.True(queued.IsCompleted);
        Assert.Null(queued.Status);
        Assert.False(pool.IsRunning);
        Assert.Equal(["running", "queued"], _h.Started);
    }

    [Fact]
    public async Task An_idle_pool_stops_at_once()
    {
        var pool = NewPool(workers: 2, queueCapacity: 2, Record);
        await pool.StartAsync(CancellationToken.None);
        Assert.True(pool.IsRunning);

        Task stopping = pool.StopAsync(CancellationToken.None);

        Assert.True(stopping.IsCompletedSuccessfully);
        Assert.False(pool.IsRunning);
    }

    [Fact]
    public async Task A_stop_that_runs_out_of_time_gives_up_on_a_stuck_handler_and_says_how_much_it_abandoned()
    {
        var pool = NewPool(workers: 1, queueCapacity: 4, Gated);
        await pool.StartAsync(CancellationToken.None);
        pool.TrySubmit(Request("stuck"));
        pool.TrySubmit(Request("queued"));
        await _h.StartedAsync(1);
        using var timedOut = new CancellationTokenSource();

        Task stopping = pool.StopAsync(timedOut.Token);
        await timedOut.CancelAsync();

        await stopping.WaitAsync(PoolHarness.HangGuard);
        Assert.False(pool.IsRunning);
        FakeLogRecord warning = Assert.Single(_h.Logger.Collector.GetSnapshot(), r => r.Level == LogLevel.Warning);
        Assert.Equal("Worker pool stopped with 1 queued and 1 running requests abandoned at the shutdown timeout.", warning.Message);
    }

    private WorkerPool NewPool(int workers, int queueCapacity, Func<FrameContext, CancellationToken, ValueTask> handle)
    {
        var options = Options.Create(new FrameServerOptions { Workers = workers, QueueCapacity = queueCapacity });
        var pool = new WorkerPool(options, new DelegateFrameHandler(handle), _h.Parts.Time, _h.Logger);
        return _h.Add(pool);
    }

    private FrameWorkItem Request(string text)
    {
        var slot = new FrameWorkItem(_h.Connection);
        _h.Parts.SetRequest(slot, Encoding.UTF8.GetBytes(text));
        return slot;
    }

    /// <summary>Requests linked as the read loop links one read's requests; submitting the first submits them all.</summary>
    private FrameWorkItem[] Batch(params string[] texts)
    {
        FrameWorkItem[] batch = [.. texts.Select(Request)];
        for (int i = 1; i < batch.Length; i++)
        {
            batch[i - 1].NextInBatch = batch[i];
        }

        return batch;
    }

    private ValueTask Record(FrameContext frame, CancellationToken cancellationToken)
    {
        Started(frame);
        return DelegateFrameHandler.Echo(frame);
    }

    /// <summary>Records the request, then holds it (counted as running) until the test opens the gate.</summary>
    private async ValueTask Gated(FrameContext frame, CancellationToken cancellationToken)
    {
        int running = Interlocked.Increment(ref _running);
        AtomicMax.Raise(ref _mostRunning, running);
        Started(frame);
        await _h.Gate;
        Interlocked.Decrement(ref _running);
        await DelegateFrameHandler.Echo(frame);
    }

    private void Started(FrameContext frame) => _h.RecordStart(Text(frame));


    private static ValueTask Fail(string failure) => failure switch
    {
        "throws before returning" => throw new InvalidOperationException("boom"),
        "returns a faulted task" => ValueTask.FromException(new InvalidOperationException("boom")),
        _ => FaultLaterAsync(),
    };

    private static async ValueTask FaultLaterAsync()
    {
        await Task.Yield();
        throw new InvalidOperationException("boom");
    }

    private static string Text(FrameContext frame) => Encoding.UTF8.GetString(frame.Request.Span);


    /// <summary>
    /// Waits on <paramref name="slot"/> as the write loop does and evaluates <paramref name="probe"/> the moment it is
    /// signalled: a slot resumes its waiter inline, inside the signal.
    /// </summary>
    private static async Task<bool> WhenSignalledAsync(FrameWorkItem slot, Func<bool> probe)
    {
        await slot.WaitAsync().ConfigureAwait(false);
        return probe();
    }

    /// <summary>What the write loop would send for the slot.</summary>
    private static async Task<byte[]> WrittenAsync(FrameWorkItem slot)
    {
        var output = new MemoryStream();
        PipeWriter writer = PipeWriter.Create(output);
        slot.WriteAnswer(writer);
        await writer.FlushAsync();
        return output.ToArray();
    }
}
