extern alias server;
using KestrelFrames.Primitives;
using AsyncSignal = server::KestrelFrames.Primitives.AsyncSignal;

namespace KestrelFrames.Tests.Primitives;

/// <summary>The one-waiter auto-reset event both loops of a connection sleep on.</summary>
public sealed class AsyncSignalTests
{
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(10);

    [Fact]
    public void A_wait_with_no_set_pends()
    {
        var signal = new AsyncSignal();

        Assert.False(signal.WaitAsync().AsTask().IsCompleted);
    }

    [Fact]
    public async Task A_set_before_the_wait_completes_the_wait_synchronously()
    {
        var signal = new AsyncSignal();

        signal.Set();
        ValueTask wait = signal.WaitAsync();

        Assert.True(wait.IsCompletedSuccessfully);
        await wait;
    }

    [Fact]
    public async Task A_set_while_waiting_completes_the_wait()
    {
        var signal = new AsyncSignal();
        ValueTask wait = signal.WaitAsync();

        signal.Set();

        await wait.AsTask().WaitAsync(s_hangGuard);
    }

    [Fact]
    public async Task The_signal_resets_itself_once_a_wait_has_consumed_it()
    {
        var signal = new AsyncSignal();
        signal.Set();
        await signal.WaitAsync().AsTask().WaitAsync(s_hangGuard);

        Assert.False(signal.WaitAsync().AsTask().IsCompleted);
    }

    [Fact]
    public async Task A_set_that_completed_a_wait_is_not_remembered_for_the_next_one()
    {
        var signal = new AsyncSignal();
        ValueTask first = signal.WaitAsync();
        signal.Set();
        await first.AsTask().WaitAsync(s_hangGuard);

        Assert.False(signal.WaitAsync().AsTask().IsCompleted);
    }

    [Fact]
    public async Task Sets_with_nobody_waiting_are_remembered_as_one()
    {
        var signal = new AsyncSignal();

        signal.Set();
        signal.Set();
        signal.Set();

        Assert.True(signal.WaitAsync().AsTask().IsCompleted);
        ValueTask second = signal.WaitAsync();
        Assert.False(second.IsCompleted);
        signal.Set();
        await second.AsTask().WaitAsync(s_hangGuard);
    }

    [Fact]
    public async Task One_signal_serves_many_wait_and_set_cycles_in_either_order()
    {
        var signal = new AsyncSignal();

        for (int i = 0; i < 10_000; i++)
        {
            if (i % 2 == 0)
            {
                ValueTask wait = signal.WaitAsync();
                Assert.False(wait.IsCompleted, $"cycle {i}: the wait completed before its set");
                signal.Set();
                Assert.True(wait.IsCompletedSuccessfully, $"cycle {i}: the set did not complete the wait");
                await wait;
            }
            else
            {
                signal.Set();
                ValueTask wait = signal.WaitAsync();
                Assert.True(wait.IsCompletedSuccessfully, $"cycle {i}: the earlier set was lost");
                await wait;
            }
        }
    }

    [Fact]
    public async Task By_default_the_waiter_resumes_off_the_setters_stack()
    {
        var signal = new AsyncSignal();
        var insideSet = new ThreadLocal<bool>();
        Task<bool> resumedInsideSet = ResumeAsync(signal, insideSet);

        insideSet.Value = true;
        signal.Set();
        insideSet.Value = false;

        Assert.False(await resumedInsideSet.WaitAsync(s_hangGuard));
    }

    [Fact]
    public async Task Without_asynchronous_continuations_the_waiter_resumes_inline_in_the_set()
    {
        var signal = new AsyncSignal(runContinuationsAsynchronously: false);
        var insideSet = new ThreadLocal<bool>();
        Task<bool> resumedInsideSet = ResumeAsync(signal, insideSet);

        insideSet.Value = true;
        signal.Set();
        insideSet.Value = false;

        Assert.True(resumedInsideSet.IsCompleted, "the waiter had not run when Set returned");
        Assert.True(await resumedInsideSet);
    }

    [Fact]
    public async Task Two_threads_ping_ponging_through_two_signals_lose_no_wake_up()
    {
        const int RoundTrips = 20_000;
        var ping = new AsyncSignal();
        var pong = new AsyncSignal();
        int served = 0;

        Task server = Task.Run(async () =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                await ping.WaitAsync();
                served++;
                pong.Set();
            }
        });
        Task client = Task.Run(async () =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                ping.Set();
                await pong.WaitAsync();
            }
        });

        await Task.WhenAll(server, client).WaitAsync(s_hangGuard);
        Assert.Equal(RoundTrips, served);
    }

    [Fact]
    public async Task A_waiter_racing_many_setters_always_sees_every_set_that_came_before_its_wake_up()
    {
        // The read loop's pattern: check the shared state, and sleep only when there is nothing new. A lost
        // wake-up leaves the waiter asleep with work pending, and the hang guard fails the test.
        const int Setters = 4;
        const int SetsEach = 20_000;
        var signal = new AsyncSignal();
        long produced = 0;

        Task[] setters = [.. Enumerable.Range(0, Setters).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < SetsEach; i++)
            {
                Interlocked.Increment(ref produced);
                signal.Set();
            }
        }))];
        Task waiter = Task.Run(async () =>
        {
            while (Interlocked.Read(ref produced) < Setters * SetsEach)
            {
                await signal.WaitAsync();
            }
        });

        await Task.WhenAll([.. setters, waiter]).WaitAsync(s_hangGuard);
    }

    private static async Task<bool> ResumeAsync(AsyncSignal signal, ThreadLocal<bool> insideSet)
    {
        // Not on the test's synchronization context, which would post the continuation whatever the signal does.
        await signal.WaitAsync().ConfigureAwait(false);
        return insideSet.Value;
    }
}
