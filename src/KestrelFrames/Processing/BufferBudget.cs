using Microsoft.Extensions.Options;

namespace KestrelFrames.Processing;

/// <summary>
/// The server-wide cap on request bytes held at once (<see cref="FrameServerOptions.MaxBufferedBytes"/>). Taking and
/// returning bytes is one atomic add each; only a connection that finds the budget spent waits, and only then does
/// anything allocate.
/// </summary>
internal sealed class BufferBudget(IOptions<FrameServerOptions> options)
{
    private readonly long _limit = options.Value.MaxBufferedBytes;
    private readonly object _waitersLock = new();
    private List<TaskCompletionSource> _waiters = [];
    private long _used;
    private int _waiterCount;

    public long Used => Volatile.Read(ref _used);

    public bool TryReserve(long bytes)
    {
        // Add only what fits: an add-then-undo would let Used overshoot the limit, fail reservations that fit,
        // and wake every waiter on each undo, spinning exactly when the server is at its memory limit.
        long used = Volatile.Read(ref _used);
        while (used + bytes <= _limit)
        {
            long seen = Interlocked.CompareExchange(ref _used, used + bytes, used);
            if (seen == used)
            {
                return true;
            }

            used = seen;
        }

        return false;
    }

    /// <summary>Waits until <paramref name="bytes"/> fit; a single frame always fits eventually, as the limit is at least MaxFrameSize.</summary>
    public async ValueTask ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        while (!TryReserve(bytes))
        {
            var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waitersLock)
            {
                _waiters.Add(released);
                _waiterCount++;
            }

            // A release between the failed try and the registration above woke nobody: try once more.
            if (TryReserve(bytes))
            {
                return;
            }

            await released.Task.WaitAsync(cancellationToken);
        }
    }

    public void Release(long bytes)
    {
        Interlocked.Add(ref _used, -bytes);
        if (Volatile.Read(ref _waiterCount) == 0)
        {
            return;
        }

        List<TaskCompletionSource> waiters;
        lock (_waitersLock)
        {
            waiters = _waiters;
            _waiters = [];
            _waiterCount = 0;
        }

        foreach (TaskCompletionSource waiter in waiters)
        {
            waiter.TrySetResult();
        }
    }
}
