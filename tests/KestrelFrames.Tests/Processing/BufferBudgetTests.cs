using KestrelFrames.Processing;

namespace KestrelFrames.Tests.Processing;

/// <summary>The server-wide cap on request bytes held at once (Frames:MaxBufferedBytes).</summary>
public sealed class BufferBudgetTests
{
    private const long Limit = 100;
    private static readonly TimeSpan s_hangGuard = TimeSpan.FromSeconds(10);

    [Fact]
    public void Reservations_within_the_limit_succeed_and_add_up_to_exactly_the_limit()
    {
        var budget = NewBudget();

        Assert.True(budget.TryReserve(30));
        Assert.True(budget.TryReserve(70));

        Assert.Equal(Limit, budget.Used);
    }

    [Fact]
    public void A_reservation_over_what_is_left_is_refused_and_takes_nothing()
    {
        var budget = NewBudget();
        budget.TryReserve(60);

        Assert.False(budget.TryReserve(41));
        Assert.Equal(60, budget.Used);
        Assert.True(budget.TryReserve(40));
    }

    [Fact]
    public void A_reservation_larger_than_the_whole_limit_is_refused_on_an_empty_budget()
    {
        var budget = NewBudget();

        Assert.False(budget.TryReserve(Limit + 1));
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public void Releasing_gives_the_bytes_back_for_a_reservation_that_was_refused()
    {
        var budget = NewBudget();
        budget.TryReserve(80);
        Assert.False(budget.TryReserve(50));

        budget.Release(30);

        Assert.Equal(50, budget.Used);
        Assert.True(budget.TryReserve(50));
        Assert.Equal(Limit, budget.Used);
    }

    [Fact]
    public void A_waiting_reservation_that_fits_completes_synchronously()
    {
        var budget = NewBudget();

        Task reserving = budget.ReserveAsync(Limit, CancellationToken.None).AsTask();

        Assert.True(reserving.IsCompletedSuccessfully);
        Assert.Equal(Limit, budget.Used);
    }

    [Fact]
    public async Task A_waiting_reservation_completes_when_a_release_makes_room()
    {
        var budget = NewBudget();
        budget.TryReserve(90);

        Task reserving = budget.ReserveAsync(20, CancellationToken.None).AsTask();
        Assert.False(reserving.IsCompleted);
        Assert.Equal(90, budget.Used);

        budget.Release(90);

        await reserving.WaitAsync(s_hangGuard);
        Assert.Equal(20, budget.Used);
    }

    [Fact]
    public async Task A_release_too_small_for_a_waiting_reservation_leaves_it_waiting_until_enough_is_back()
    {
        var budget = NewBudget();
        budget.TryReserve(50);
        budget.TryReserve(50);
        Task reserving = budget.ReserveAsync(60, CancellationToken.None).AsTask();

        budget.Release(50);

        // 50 free of the 60 asked: the waiter may wake and retry, but cannot have taken anything.
        Assert.False(reserving.IsCompleted);
        Assert.Equal(50, budget.Used);

        budget.Release(50);

        await reserving.WaitAsync(s_hangGuard);
        Assert.Equal(60, budget.Used);
    }

    [Fact]
    public async Task One_release_wakes_every_waiter_that_now_fits()
    {
        var budget = NewBudget();
        budget.TryReserve(Limit);
        Task first = budget.ReserveAsync(40, CancellationToken.None).AsTask();
        Task second = budget.ReserveAsync(60, CancellationToken.None).AsTask();

        budget.Release(Limit);

        await Task.WhenAll(first, second).WaitAsync(s_hangGuard);
        Assert.Equal(Limit, budget.Used);
    }

    [Fact]
    public async Task A_cancelled_wait_throws_and_takes_nothing()
    {
        var budget = NewBudget();
        budget.TryReserve(Limit);
        using var cancellation = new CancellationTokenSource();
        Task reserving = budget.ReserveAsync(10, cancellation.Token).AsTask();

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reserving.WaitAsync(s_hangGuard));
        budget.Release(Limit);
        Assert.Equal(0, budget.Used);
        Assert.True(budget.TryReserve(Limit));
    }

    [Fact]
    public async Task Racing_reservations_never_hold_more_than_the_limit_and_give_everything_back()
    {
        var budget = NewBudget();
        long overshoot = 0;

        Task[] racers = [.. Enumerable.Range(0, 4).Select(racer => Task.Run(() =>
        {
            for (int i = 0; i < 50_000; i++)
            {
                long bytes = 1 + ((i + racer) % 60);
                if (budget.TryReserve(bytes))
                {
                    long used = budget.Used;
                    if (used > Limit)
                    {
                        Interlocked.Exchange(ref overshoot, used);
                    }

                    budget.Release(bytes);
                }
            }
        }))];

        await Task.WhenAll(racers).WaitAsync(s_hangGuard);
        Assert.Equal(0, Interlocked.Read(ref overshoot));
        Assert.Equal(0, budget.Used);
    }

    [Fact]
    public async Task Many_waiting_reservations_on_a_tight_budget_all_get_their_turn()
    {
        // Each holder needs more than half the budget, so they take turns; a lost wake-up leaves one waiting forever.
        var budget = NewBudget();

        Task[] holders = [.. Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (int i = 0; i < 2_000; i++)
            {
                await budget.ReserveAsync(60, CancellationToken.None);
                budget.Release(60);
            }
        }))];

        await Task.WhenAll(holders).WaitAsync(s_hangGuard);
        Assert.Equal(0, budget.Used);
    }

    private static BufferBudget NewBudget() => new(new LiveFrameOptions(new FrameServerOptions { MaxBufferedBytes = Limit }));
}
