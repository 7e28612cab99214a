using KestrelFrames.Primitives;

namespace KestrelFrames.Tests.Primitives;

public sealed class TokenBucketTests
{
    // A clock of 1,000 ticks a second: one tick is a millisecond.
    private const long Frequency = 1_000;

    [Fact]
    public void A_full_bucket_gives_its_burst_at_once_and_then_nothing_until_time_passes()
    {
        var bucket = new TokenBucket(perSecond: 10, burst: 4, Frequency);
        long state = TokenBucket.Full;

        int taken = Enumerable.Range(0, 10).Count(_ => bucket.TryTake(ref state, now: 5_000));

        Assert.Equal(4, taken);
        Assert.False(bucket.TryTake(ref state, now: 5_099));
        Assert.True(bucket.TryTake(ref state, now: 5_100)); // 100 ms: one token at 10 a second
        Assert.False(bucket.TryTake(ref state, now: 5_100));
    }

    [Fact]
    public void A_client_at_a_steady_rate_gets_exactly_the_rate()
    {
        var bucket = new TokenBucket(perSecond: 10, burst: 1, Frequency);
        long state = TokenBucket.Full;

        // Asking every 10 ms for 10 s: 10 a second get through, 100 in all (the first at t = 0).
        int taken = 0;
        for (long now = 0; now < 10_000; now += 10)
        {
            taken += bucket.TryTake(ref state, now) ? 1 : 0;
        }

        Assert.Equal(100, taken);
    }

    [Fact]
    public void An_idle_bucket_refills_to_its_burst_and_no_further()
    {
        var bucket = new TokenBucket(perSecond: 10, burst: 3, Frequency);
        long state = TokenBucket.Full;
        Assert.True(bucket.TryTake(ref state, now: 0));
        Assert.False(TokenBucket.IsFull(ref state, now: 99));
        Assert.True(TokenBucket.IsFull(ref state, now: 100));

        // An hour of silence is still only a burst of three.
        int taken = Enumerable.Range(0, 10).Count(_ => bucket.TryTake(ref state, now: 3_600_000));

        Assert.Equal(3, taken);
    }

    [Fact]
    public void A_refusal_leaves_the_bucket_as_it_was()
    {
        var bucket = new TokenBucket(perSecond: 1, burst: 1, Frequency);
        long state = TokenBucket.Full;
        Assert.True(bucket.TryTake(ref state, now: 0));
        long afterTake = state;

        for (int i = 0; i < 1_000; i++)
        {
            Assert.False(bucket.TryTake(ref state, now: 500));
        }

        Assert.Equal(afterTake, state);
        Assert.True(bucket.TryTake(ref state, now: 1_000));
    }

    [Fact]
    public void Threads_taking_at_once_never_get_more_than_the_burst()
    {
        var bucket = new TokenBucket(perSecond: 1, burst: 1_000, Frequency);
        long state = TokenBucket.Full;
        int taken = 0;

        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                if (bucket.TryTake(ref state, now: 0))
                {
                    Interlocked.Increment(ref taken);
                }
            }
        });

        Assert.Equal(1_000, taken);
    }
}
