using System.Buffers;
using System.Threading.Tasks.Sources;

namespace KestrelFrames.Client.Internal;

/// <summary>
/// One request from the moment it is queued until its caller has its answer: the caller awaits it as a
/// <see cref="ValueTask{TResult}"/> backed by a <see cref="ManualResetValueTaskSourceCore{TResult}"/>, so with the
/// instance coming from a pool a request allocates nothing of its own. The instance goes back to the pool when both
/// owners are done with it: the caller (after reading the result) and the connection (after the answer, or after
/// failing it). A heartbeat the client sends by itself has only the connection as owner.
/// </summary>
internal sealed class PendingRequest : IValueTaskSource<FrameResponse>, IValueTaskSource<FrameResponseStatus>, IValueTaskSource
{
    private static readonly Action<object?, CancellationToken> s_onCancel = static (state, token) => ((PendingRequest)state!).OnCancel(token);

    private readonly PendingRequestPool _pool;
    private ManualResetValueTaskSourceCore<FrameResponse> _core;
    private CancellationTokenRegistration _registration;
    private CancellationToken _cancellationToken;
    private int _state;
    private int _completed;
    private int _owners;

    public PendingRequest(PendingRequestPool pool)
    {
        _pool = pool;
        _core.RunContinuationsAsynchronously = true; // The read loop must never run a caller's code inline.
    }

    public PendingRequestKind Kind { get; private set; }

    /// <summary>The caller's payload; the caller keeps it unchanged until the request completes.</summary>
    public ReadOnlyMemory<byte> Payload { get; private set; }

    /// <summary>Where the answer's payload goes instead of a new array, when the caller gave a writer.</summary>
    public IBufferWriter<byte>? Answer { get; private set; }

    /// <summary>True once the caller's result (answer, exception or cancellation) is set.</summary>
    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    /// <summary>True while the request is on the wire of the current connection, waiting for its answer.</summary>
    public bool IsWritten => Volatile.Read(ref _state) == PendingRequestState.Written;

    /// <summary>
    /// What is known about a request left unanswered by a lost connection: false when the server cannot have
    /// processed it, null when it may have. Set when the connection's unanswered requests are collected.
    /// </summary>
    public bool? WasProcessed { get; set; }

    /// <summary>Arms a rented instance. <paramref name="cancellationToken"/> may fire at once.</summary>
    public void Start(PendingRequestKind kind, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken, IBufferWriter<byte>? answer = null)
    {
        Kind = kind;
        Payload = payload;
        Answer = answer;
        WasProcessed = false;
        _state = PendingRequestState.Queued;
        _completed = 0;
        _owners = kind == PendingRequestKind.Heartbeat ? 1 : 2;
        _cancellationToken = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(s_onCancel, this);
        }
    }

    public ValueTask<FrameResponse> AsValueTask() => new(this, _core.Version);

    public ValueTask AsPingValueTask() => new(this, _core.Version);

    /// <summary>For a caller that gave a writer for the answer: the status is all the result carries.</summary>
    public ValueTask<FrameResponseStatus> AsStatusValueTask() => new(this, _core.Version);

    /// <summary>Write loop: claims the request for copying; false when its caller cancelled first (skip it).</summary>
    public bool TryBeginWrite() =>
        Interlocked.CompareExchange(ref _state, PendingRequestState.Writing, PendingRequestState.Queued) == PendingRequestState.Queued;

    /// <summary>Write loop: the payload is in the pipe. A cancellation that came during the copy completes now.</summary>
    public void EndWrite()
    {
        if (Interlocked.CompareExchange(ref _state, PendingRequestState.Written, PendingRequestState.Writing) != PendingRequestState.Writing)
        {
            // WritingCancelled: the bytes are on their way, so the answer slot stays reserved and its answer is dropped.
            Volatile.Write(ref _state, PendingRequestState.Abandoned);
            TrySetException(new OperationCanceledException(_cancellationToken));
        }
    }

    /// <summary>After a lost connection: makes a written request writable again; false when its caller has cancelled.</summary>
    public bool TryRequeue()
    {
        if (IsCompleted)
        {
            return false;
        }

        int state = Interlocked.CompareExchange(ref _state, PendingRequestState.Queued, PendingRequestState.Written);
        return state is PendingRequestState.Written or PendingRequestState.Queued;
    }

    public bool TrySetResult(FrameResponse response)
    {
        if (!TryClaimResult())
        {
            return false;
        }

        _core.SetResult(response);
        return true;
    }

    public bool TrySetException(Exception exception)
    {
        if (!TryClaimResult())
        {
            return false;
        }

        _core.SetException(exception);
        return true;
    }

    /// <summary>
    /// Read loop: takes the right to set the result before copying the answer into <see cref="Answer"/>, so that a
    /// cancellation cannot hand the writer back to its caller while the copy runs. False when a result is set.
    /// </summary>
    public bool TryClaimResult() => Interlocked.Exchange(ref _completed, 1) == 0;

    /// <summary>Completes a request whose result <see cref="TryClaimResult"/> claimed.</summary>
    public void SetClaimedResult(FrameResponse response) => _core.SetResult(response);

    /// <summary>Fails a request whose result <see cref="TryClaimResult"/> claimed.</summary>
    public void SetClaimedException(Exception exception) => _core.SetException(exception);

    /// <summary>One owner is done with the instance; the last one returns it to the pool.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _owners) != 0)
        {
            return;
        }

        _core.Reset();
        _registration = default;
        _cancellationToken = default;
        Payload = default;
        Answer = null;
        _pool.Return(this);
    }

    public FrameResponse GetResult(short token)
    {
        if (token != _core.Version)
        {
            throw new InvalidOperationException("The ValueTask of a FrameClient request may be awaited only once.");
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Dispose waits for a cancellation callback still running on another thread: after it, nothing touches us.
            _registration.Dispose();
            Release();
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    FrameResponseStatus IValueTaskSource<FrameResponseStatus>.GetResult(short token) => GetResult(token).Status;

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void OnCancel(CancellationToken token)
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            int next = state switch
            {
                // Queued: the write loop will skip it. Written: the answer slot stays reserved, so later answers still
                // match their requests; this one's answer is read and dropped.
                PendingRequestState.Queued or PendingRequestState.Written => PendingRequestState.Abandoned,

                // Being copied: EndWrite completes it once the payload is no longer read.
                PendingRequestState.Writing => PendingRequestState.WritingCancelled,
                _ => -1,
            };
            if (next < 0)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _state, next, state) == state)
            {
                if (next == PendingRequestState.Abandoned)
                {
                    TrySetException(new OperationCanceledException(token));
                }

                return;
            }
        }
    }
}
