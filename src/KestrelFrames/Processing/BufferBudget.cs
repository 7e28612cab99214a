namespace KestrelFrames.Processing;

/// <summary>
/// The server-wide cap on request bytes held at once (<see cref="FrameServerOptions.MaxBufferedBytes"/>). Taking and
/// returning bytes is one atomic add each; only a connection that finds the budget spent waits, and only then does
/// anything allocate. The limit follows the configuration: lowered, it refuses new reservations until enough bytes
/// come back (nothing held is taken away); raised, it wakes the waiting connections at once.
/// </summary>
internal sealed class BufferBudget
{
    private readonly object _waitersLock = new();
    private List<TaskCompletionSource> _waiters = [];
    private long _limit;
    private long _used;
    private int _waiterCount;

    public BufferBudget(LiveFrameOptions options) => options.Subscribe(o => SetLimit(o.MaxBufferedBytes));

    public long Used => Volatile.Read(ref _used);

    public long Limit => Volatile.Read(ref _limit);

    public bool TryReserve(long bytes) => TryReserve(bytes, aloneIfLarger: false);

    private bool TryReserve(long bytes, bool aloneIfLarger)
    {
        // Add only what fits: an add-then-undo would let Used overshoot the limit, fail reservations that fit,
        // and wake every waiter on each undo, spinning exactly when the server is at its memory limit.
        long limit = Volatile.Read(ref _limit);
        long used = Volatile.Read(ref _used);
        while (used + bytes <= limit || (aloneIfLarger && used == 0))
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

    /// <summary>
    /// Waits until <paramref name="bytes"/> fit. A single frame always fits eventually: the limit is at least
    /// MaxFrameSize, and a frame larger than the whole limit (both lowered by a reload after its header was read) is
    /// let in alone, once nothing else is held, instead of waiting for room that never comes.
    /// </summary>
    public async ValueTask ReserveAsync(long bytes, CancellationToken cancellationToken)
    {
        while (!TryReserve(bytes, aloneIfLarger: true))
        {
            var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waitersLock)
            {
                _waiters.Add(released);
                _waiterCount++;
            }

            // A release between the failed try and the registration above woke nobody: try once more, after a full
            // fence, so the count just raised is visible before the limit and the usage are read again.
            Interlocked.MemoryBarrier();
            if (TryReserve(bytes, aloneIfLarger: true))
            {
                return;
            }

            await released.Task.WaitAsync(cancellationToken);
        }
    }

    public void Release(long bytes)
    {
        Interlocked.Add(ref _used, -bytes);
        WakeWaiters();
    }

    private void SetLimit(long limit)
    {
        // Interlocked: a plain store could pass WakeWaiters' read of the waiter count, and a read loop registering
        // meanwhile would find the old limit while this call found nobody to wake.
        Interlocked.Exchange(ref _limit, limit);
        WakeWaiters();
    }

    private void WakeWaiters()
    {
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
