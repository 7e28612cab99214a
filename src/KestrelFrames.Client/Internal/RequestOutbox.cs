using System.Threading.Tasks.Sources;

namespace KestrelFrames.Client.Internal;

/// <summary>
/// Requests waiting to be written, in the order callers queued them. It outlives connections: after a reconnect the
/// new connection's write loop takes up what the old one left. Many callers enqueue under one short lock; the single
/// reader (the current write loop, or the session while it is disconnected) takes everything at once by swapping
/// queues, so a burst of concurrent callers becomes one batch and one flush. Waiting reuses one
/// <see cref="ManualResetValueTaskSourceCore{TResult}"/>: it allocates nothing.
/// </summary>
internal sealed class RequestOutbox : IValueTaskSource<bool>
{
    private readonly Lock _lock = new();
    private Queue<PendingRequest> _queue = new();
    private ManualResetValueTaskSourceCore<bool> _waiter;
    private bool _waiting;
    private bool _wakeRequested;
    private bool _completed;

    public RequestOutbox() => _waiter.RunContinuationsAsynchronously = true;

    /// <summary>True when nothing is queued.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count == 0;
            }
        }
    }

    /// <summary>Queues <paramref name="request"/>; false once <see cref="Complete"/> was called.</summary>
    public bool TryEnqueue(PendingRequest request)
    {
        bool wake;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            _queue.Enqueue(request);
            wake = _waiting;
            _waiting = false;
        }

        if (wake)
        {
            _waiter.SetResult(true);
        }

        return true;
    }

    /// <summary>Moves everything queued into <paramref name="batch"/>, which must be empty; false when nothing was queued.</summary>
    public bool TryTakeAll(ref Queue<PendingRequest> batch)
    {
        lock (_lock)
        {
            if (_queue.Count == 0)
            {
                return false;
            }

            (_queue, batch) = (batch, _queue);
            return true;
        }
    }

    /// <summary>Takes the oldest queued request.</summary>
    public bool TryDequeue(out PendingRequest request)
    {
        lock (_lock)
        {
            return _queue.TryDequeue(out request!);
        }
    }

    /// <summary>
    /// Completes when something is queued (true), when <see cref="Wake"/> is called (true), or when the outbox is
    /// completed and empty (false). One waiter at a time.
    /// </summary>
    public ValueTask<bool> WaitAsync()
    {
        lock (_lock)
        {
            if (_queue.Count > 0 || _wakeRequested)
            {
                _wakeRequested = false;
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            _waiter.Reset();
            _waiting = true;
            return new ValueTask<bool>(this, _waiter.Version);
        }
    }

    /// <summary>Wakes the waiter, or the next one if nobody waits: a write loop whose connection ended sees it.</summary>
    public void Wake() => Signal(complete: false);

    /// <summary>Refuses further requests and wakes the waiter. What is queued stays until it is taken.</summary>
    public void Complete() => Signal(complete: true);

    bool IValueTaskSource<bool>.GetResult(short token) => _waiter.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _waiter.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _waiter.OnCompleted(continuation, state, token, flags);

    private void Signal(bool complete)
    {
        bool wake;
        lock (_lock)
        {
            _completed |= complete;
            wake = _waiting;
            _waiting = false;
            _wakeRequested = !wake && !complete;
        }

        if (wake)
        {
            // A waiter only waits on an empty queue, and an enqueue would have woken it: empty still.
            _waiter.SetResult(!complete);
        }
    }
}
