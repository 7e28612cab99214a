using System.Buffers;
using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;
using static KestrelFrames.Tests.Client.ClientTestKit;

namespace KestrelFrames.Tests.Client;

/// <summary>
/// Busy retries run on the client's clock, a fake one here: the test awaits each retry delay being scheduled (a timer
/// created), then advances the clock past it.
/// </summary>
public sealed class FrameClientBusyRetryTests
{
    [Fact]
    public async Task A_busy_answer_is_retried_with_backoff_until_the_server_has_room_and_the_request_runs_once()
    {
        await using var full = await BudgetHeld.StartAsync();
        var (server, handler, held) = (full.Server, full.Handler, full.Held);
        var time = new ObservedTimeProvider();
        await using FrameClient client = await ConnectAsync(server, RetryingOn(time, maxBusyRetries: 100));

        int timers = time.TimersCreated;
        Task<FrameResponse> probe = client.SendAsync("probe"u8.ToArray()).AsTask();
        await time.WaitForTimersAsync(timers + 1); // Answered Busy; the first retry waits on the clock.
        Assert.False(probe.IsCompleted);

        handler.Open();
        await held;
        await RetryUntilDoneAsync(probe, time);

        FrameResponse answer = await probe;
        Assert.True(answer.IsOk, answer.ToString());
        Assert.Equal("probe", Text(answer));
        Assert.Equal(1, handler.Runs("probe"));
    }

    [Fact]
    public async Task After_max_busy_retries_the_busy_answer_is_returned()
    {
        await using var full = await BudgetHeld.StartAsync();
        var (server, handler, held) = (full.Server, full.Handler, full.Held);
        var time = new ObservedTimeProvider();
        await using FrameClient client = await ConnectAsync(server, RetryingOn(time, maxBusyRetries: 2));

        int timers = time.TimersCreated;
        Task<FrameResponse> probe = client.SendAsync("probe"u8.ToArray()).AsTask();
        for (int retry = 1; retry <= 2; retry++)
        {
            await time.WaitForTimersAsync(timers + retry);
            time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal(FrameResponseStatus.Busy, (await probe).Status); // Three tries, three Busy answers.
        Assert.Equal(0, handler.Runs("probe"));
        handler.Open();
        await held;
    }

    [Fact]
    public async Task A_busy_answer_retried_into_a_writer_leaves_only_the_final_answer_in_it()
    {
        await using var full = await BudgetHeld.StartAsync();
        var time = new ObservedTimeProvider();
        await using FrameClient client = await ConnectAsync(full.Server, RetryingOn(time, maxBusyRetries: 100));
        var answer = new ArrayBufferWriter<byte>();

        int timers = time.TimersCreated;
        Task<FrameResponseStatus> probe = client.SendAsync("probe"u8.ToArray(), answer).AsTask();
        await time.WaitForTimersAsync(timers + 1);
        Assert.Equal(0, answer.WrittenCount); // A Busy answer writes nothing.

        full.Handler.Open();
        await full.Held;
        await RetryUntilDoneAsync(probe, time);

        Assert.Equal(FrameResponseStatus.Ok, await probe);
        Assert.Equal("probe"u8.ToArray(), answer.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task Cancelling_during_the_busy_backoff_stops_the_retries()
    {
        await using var full = await BudgetHeld.StartAsync();
        var (server, handler, held) = (full.Server, full.Handler, full.Held);
        var time = new ObservedTimeProvider();
        await using FrameClient client = await ConnectAsync(server, RetryingOn(time, maxBusyRetries: 100));
        using var cancel = new CancellationTokenSource();

        int timers = time.TimersCreated;
        Task<FrameResponse> probe = client.SendAsync("probe"u8.ToArray(), cancel.Token).AsTask();
        await time.WaitForTimersAsync(timers + 1);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe);
        handler.Open();
        await held;
        Assert.Equal(0, handler.Runs("probe"));
    }

    private static async Task RetryUntilDoneAsync(Task probe, ObservedTimeProvider time)
    {
        while (!probe.IsCompleted)
        {
            // Each retry either gets through or is Busy again (the budget may not be back yet) and waits anew.
            int timers = time.TimersCreated;
            time.Advance(TimeSpan.FromMinutes(1));
            using var answered = new CancellationTokenSource();
            Task retrying = time.WaitForTimersAsync(timers + 1, answered.Token);
            if (await Task.WhenAny(probe, retrying) == retrying)
            {
                await retrying; // A wait that timed out fails the test here, not later as an unobserved exception.
            }

            // The probe won: the wait it raced must not time out 30 s later, in whatever test runs then.
            await answered.CancelAsync();
        }
    }

    private static FrameClientOptions RetryingOn(ObservedTimeProvider time, int maxBusyRetries) => new()
    {
        TimeProvider = time,
        Reconnect = new FrameReconnectOptions
        {
            MaxBusyRetries = maxBusyRetries,
            BusyRetryDelay = TimeSpan.FromSeconds(1),
            MaxBusyRetryDelay = TimeSpan.FromSeconds(10),
        },
    };

    /// <summary>A server in Shed mode whose whole byte budget is held by one gated request: the next one is Busy.</summary>
    private sealed class BudgetHeld : IAsyncDisposable
    {
        private FrameClient _holder = null!;

        public RecordingHandler Handler { get; } = new(gated: tag => tag == "hold-the-budget!");

        public TestFrameServer Server { get; private set; } = null!;

        public Task<FrameResponse> Held { get; private set; } = null!;

        public static async Task<BudgetHeld> StartAsync()
        {
            var full = new BudgetHeld();
            full.Server = TestFrameServer.Start(ShedSettings, full.Handler.Services);
            full._holder = await ConnectAsync(full.Server);
            full.Held = full._holder.SendAsync(Hold).AsTask();
            await full.Handler.Entered("hold-the-budget!");
            return full;
        }

        public async ValueTask DisposeAsync()
        {
            await _holder.DisposeAsync();
            await Server.DisposeAsync();
        }
    }
}
