using System.Threading.Tasks.Sources;

namespace KestrelFrames.Primitives;

/// <summary>
/// An auto-reset event for exactly one waiter and any number of setters, reusable without allocating:
/// a <see cref="Set"/> with nobody waiting is remembered and completes the next <see cref="WaitAsync"/> at once.
/// What a setter wrote before <see cref="Set"/> is visible to the waiter once its wait completes: both sides make a
/// full fence whatever state they find.
/// The load generator links this file too (it references no server code at run time).
/// </summary>
internal sealed class AsyncSignal : IValueTaskSource
{
    private const int Idle = 0;
    private const int Signaled = 1;
    private const int Waiting = 2;

    private ManualResetValueTaskSourceCore<bool> _core;
    private int _state;

    /// <param name="runContinuationsAsynchronously">
    /// True (the server's choice): the waiter resumes on the thread pool, because the setter is often a worker or
    /// the connection's other loop and must not run the waiter's code on its stack. False: the waiter resumes
    /// inline on the setter's thread, for a setter that wants the waiter's work done right there.
    /// </param>
    public AsyncSignal(bool runContinuationsAsynchronously = true) =>
        _core = new() { RunContinuationsAsynchronously = runContinuationsAsynchronously };

    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signaled) == Signaled)
        {
            return default;
        }

        // Reset before publishing Waiting, so a Set that sees Waiting completes this version.
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle)
        {
            return new ValueTask(this, _core.Version);
        }

        // A Set landed between the two exchanges: consume it, interlocked for the reason Set begins so. A plain store
        // could stay unseen while the caller reads its data (a store then a load, reordered): a setter would find the
        // old Signaled, do nothing, and this store would then erase its set unread.
        Interlocked.Exchange(ref _state, Idle);
        return default;
    }

    public void Set()
    {
        // Interlocked from the first step, even when the signal is already set. The caller wrote something before
        // this call (a ring's count, a completed flag) and the waiter reads it after its wait; a plain read of the
        // state may complete before that write is visible (a store then a load may be reordered, on x64 too). Then a
        // waiter consumes the signal already set, still sees the old data and waits again, with no Set left to wake
        // it: a connection's write loop, parked forever on a ring its read loop had completed (soak, twice).
        int state = Interlocked.CompareExchange(ref _state, Signaled, Idle);
        while (state == Waiting)
        {
            if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
            {
                _core.SetResult(true);
                return;
            }

            state = Interlocked.CompareExchange(ref _state, Signaled, Idle);
        }
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
