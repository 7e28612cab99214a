using Microsoft.Extensions.Time.Testing;

namespace KestrelFrames.Tests.Client;

/// <summary>
/// A fake clock that also tells the test when a timer is created: a retry delay being scheduled is the event to
/// await before advancing the clock, instead of guessing with real time.
/// </summary>
public sealed class ObservedTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private int _timersCreated;

    public FakeTimeProvider Fake { get; } = new();

    public int TimersCreated => Volatile.Read(ref _timersCreated);

    public override long TimestampFrequency => Fake.TimestampFrequency;

    public override DateTimeOffset GetUtcNow() => Fake.GetUtcNow();

    public override long GetTimestamp() => Fake.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = Fake.CreateTimer(callback, state, dueTime, period);
        lock (_lock)
        {
            _timersCreated++;
            foreach (var (count, signal) in _waiters)
            {
                if (_timersCreated >= count)
                {
                    signal.TrySetResult();
                }
            }
        }

        return timer;
    }

    /// <summary>
    /// Completes once <paramref name="count"/> timers in all have been created; fails after 30 s; is cancelled by
    /// <paramref name="cancellationToken"/> (a cancelled wait, unlike a timed-out one, is never reported as unobserved).
    /// </summary>
    public Task WaitForTimersAsync(int count, CancellationToken cancellationToken = default)
    {
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_timersCreated >= count)
            {
                return Task.CompletedTask;
            }

            _waiters.Add((count, signal));
        }

        return signal.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
    }

    public void Advance(TimeSpan delta) => Fake.Advance(delta);
}
