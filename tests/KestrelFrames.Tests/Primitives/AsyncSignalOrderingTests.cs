extern alias server;
using KestrelFrames.Tests.Infrastructure;
using AsyncSignal = server::KestrelFrames.Primitives.AsyncSignal;

namespace KestrelFrames.Tests.Primitives;

/// <summary>
/// The signal between two threads that share data, as the write loop and the read loop share a ring: the setter
/// writes, then sets; the waiter consumes a set left from earlier, reads the data and waits only if it still looks
/// old. Every round is a chance for the lost wake-up that parked a soak connection forever: the setter's look at
/// the state passing its own write (a store then a load, reordered). A race, so probabilistic: with the set that
/// began with a plain read, this test lost 1 to 2,055 wake-ups in 5 of 6 runs.
/// </summary>
[Collection(ProcessWideMeasurements.Name)] // Two threads spin against each other: they need both cores to meet.
public sealed class AsyncSignalOrderingTests
{
    private const int Rounds = 5_000_000;

    [Fact]
    public async Task A_set_after_a_write_always_wakes_a_waiter_that_consumed_an_earlier_set_and_missed_the_write()
    {
        var signal = new AsyncSignal();
        int written = 0;
        int started = 0;
        int set = 0;
        var setter = new Thread(() =>
        {
            for (int round = 1; round <= Rounds; round++)
            {
                while (Volatile.Read(ref started) != round)
                {
                }

                // A different head start each round, so that some rounds meet the waiter at exactly the wrong moment.
                for (int spin = round % 24; spin > 0; spin--)
                {
                    Volatile.Read(ref set);
                }

                Volatile.Write(ref written, 1); // What ResponseQueue.Complete does: a volatile write, then the set.
                signal.Set();
                Volatile.Write(ref set, round);
            }
        })
        {
            IsBackground = true, // Should an assertion end the test early, its spinning partner must not hold the process.
        };
        setter.Start();

        int lost = 0;
        for (int round = 1; round <= Rounds; round++)
        {
            Volatile.Write(ref written, 0);
            signal.Set(); // Left from earlier, as a publish the write loop answered without waiting leaves it.
            Volatile.Write(ref started, round);

            ValueTask earlier = signal.WaitAsync();
            Assert.True(earlier.IsCompletedSuccessfully);
            await earlier;
            ValueTask wait = Volatile.Read(ref written) == 0 ? signal.WaitAsync() : ValueTask.CompletedTask;

            while (Volatile.Read(ref set) != round)
            {
            }

            if (!wait.IsCompleted)
            {
                // The setter is done and the waiter sleeps: nothing will ever wake it. Wake it, to count on.
                lost++;
                signal.Set();
            }

            await wait; // Completed by now: awaited synchronously, on this thread.
            ValueTask leftover = signal.WaitAsync(); // The round's set, when the waiter saw the write and never waited.
            if (!leftover.IsCompleted)
            {
                signal.Set();
            }

            await leftover;
        }

        setter.Join();
        Assert.Equal(0, lost);
    }
}
