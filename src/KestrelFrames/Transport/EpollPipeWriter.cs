using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace KestrelFrames.Transport;

/// <summary>
/// The epoll connection's output: a <see cref="PipeWriter"/> that sends in <see cref="FlushAsync"/>, on the thread that
/// flushes, straight from the blocks written. Ours rather than a <see cref="Pipe"/> read by a send loop: that pair held
/// ~790 B per connection, idle or not (the pipe, its segment, the loop's state machine and signal), this writer and its
/// spare segment ~260 B, and a flush no longer hops through the loop. What the socket refuses (EAGAIN) waits for
/// EPOLLOUT and the loop sends it; a flush waits only while the pause threshold or more is unsent, as a Pipe's does.
/// Completing the writer sends what is left, then a FIN. Blocks go back to the pool as soon as they are sent: an idle
/// connection holds none.
/// </summary>
/// <remarks>
/// One thread sends at a time (<see cref="_sending"/>): the flusher, or the loop after EPOLLOUT. The writer writes
/// only past the flushed mark and the sender reads and frees only before it, and both move those marks under
/// <see cref="_lock"/> (this connection's alone, never held across a system call or a continuation). A waiting
/// flush resumes inline on the thread that made room, as a Pipe with the inline scheduler does.
/// </remarks>
internal sealed partial class EpollPipeWriter : PipeWriter, IValueTaskSource<FlushResult>
{
    private static readonly Action<object?> s_cancelFlush = static state => ((EpollPipeWriter)state!).CancelFlush(canceledByToken: true);

    private readonly EpollConnection _connection;
    private readonly SafeHandle _socket;
    private readonly MemoryPool<byte> _pool;
    private readonly long _pauseThreshold;
    private readonly long _resumeThreshold;
    private readonly Lock _lock;
    private ManualResetValueTaskSourceCore<FlushResult> _flush;
    private CancellationTokenRegistration _flushCancellation;
    private CancellationToken _flushToken; // The pending flush's: a late registration fails no other (see the reader's).
    private TaskCompletionSource? _endedSource;

    // The oldest unsent byte is _headSent into _head; the writer writes into _tail. _spare saves the segment object
    // of the last block freed, so the steady state (one block per answer, rented and freed) allocates nothing.
    private OutputSegment? _head;
    private OutputSegment? _tail;
    private OutputSegment? _spare;
    private int _headSent;
    private long _written;
    private long _flushed;
    private long _sent;

    private bool _holding;
    private bool _sending;
    private volatile bool _waitingForWritable;
    private bool _flushPending;
    private bool _cancelNextFlush;
    private bool _writerCompleted;
    private bool _aborted;
    private bool _broken;
    private bool _ending;
    private bool _ended;

    public EpollPipeWriter(EpollConnection connection, Lock sync, SafeHandle socket, MemoryPool<byte> pool, PipeOptions options)
    {
        // The connection's lock, shared: it also guards the connection's epoll interest, and both hold it briefly.
        _lock = sync;
        _connection = connection;
        _socket = socket;
        _pool = pool;
        _pauseThreshold = options.PauseWriterThreshold;
        _resumeThreshold = options.ResumeWriterThreshold;
        _flush.RunContinuationsAsynchronously = false;
    }

    /// <summary>A send waits for EPOLLOUT: the connection watches for it.</summary>
    public bool WaitingForWritable => _waitingForWritable;

    /// <summary>Completes once the output is over: all of it sent and the FIN after it, or the connection aborted or broke.</summary>
    public Task Ended
    {
        get
        {
            lock (_lock)
            {
                return _ended ? Task.CompletedTask : (_endedSource ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }
        }
    }

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes
    {
        get
        {
            lock (_lock)
            {
                return _written - _flushed;
            }
        }
    }

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        lock (_lock)
        {
            if (_writerCompleted)
            {
                throw new InvalidOperationException("Writing is not allowed after the writer was completed.");
            }

            OutputSegment tail = ReserveUnsynchronized(Math.Max(sizeHint, 1));
            _holding = true;
            return tail.Memory[tail.End..];
        }
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override void Advance(int bytes)
    {
        lock (_lock)
        {
            int room = _tail is { } tail && _holding ? tail.Memory.Length - tail.End : 0;
            ArgumentOutOfRangeException.ThrowIfNegative(bytes);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, room);
            _holding = false;
            if (bytes > 0)
            {
                _tail!.End += bytes;
                _written += bytes;
            }
        }
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        FlushState state = FlushState.Done;
        SendWindow window;
        lock (_lock)
        {
            if (_cancelNextFlush)
            {
                _cancelNextFlush = false;
                return new(new FlushResult(isCanceled: true, isCompleted: false));
            }

            _flushToken = cancellationToken;
            _flushed = _written;
            if (!StartSendingUnsynchronized(out window))
            {
                // Nothing to send, or a send is under way elsewhere (the loop's, or one waiting for room).
                state = FlushStateUnsynchronized();
            }
        }

        if (window.Head is not null)
        {
            // The steady state: this lock, the send, one more lock (which also settles the flush).
            state = SendPending(window, flushing: true);
        }

        return state switch
        {
            FlushState.Over => new(new FlushResult(isCanceled: false, isCompleted: true)),
            FlushState.Waiting => WaitForRoom(cancellationToken),
            _ => default,
        };
    }

    public override void CancelPendingFlush() => CancelFlush(canceledByToken: false);

    /// <summary>The writer is done: what it wrote goes out (whatever <paramref name="exception"/> says), then a FIN.</summary>
    public override void Complete(Exception? exception = null)
    {
        bool send;
        SendWindow window;
        lock (_lock)
        {
            if (_writerCompleted)
            {
                return;
            }

            _writerCompleted = true;
            _holding = false;
            _flushed = _written;
            send = StartSendingUnsynchronized(out window);
            if (_ending)
            {
                // Ended (an abort) while the writer still held blocks: nobody else frees them. No send runs now.
                FreeSentUnsynchronized(all: true);
            }
        }

        if (send)
        {
            SendPending(window, flushing: false);
        }
        else
        {
            Settle();
        }
    }

    /// <summary>On the loop's thread, for EPOLLOUT (or a hang-up that ends the watch): the rest goes out from here.</summary>
    public void OnWritable()
    {
        bool send;
        SendWindow window;
        lock (_lock)
        {
            if (!_waitingForWritable)
            {
                return;
            }

            _waitingForWritable = false;
            send = StartSendingUnsynchronized(out window);
        }

        _connection.UpdateInterest();
        if (send)
        {
            SendPending(window, flushing: false);
        }
    }

    /// <summary>The connection was aborted: nothing more is sent, a waiting flush and the next ones report the output completed.</summary>
    public void Abort()
    {
        lock (_lock)
        {
            _aborted = true;
            _waitingForWritable = false;
        }

        Settle();
    }

    FlushResult IValueTaskSource<FlushResult>.GetResult(short token) => _flush.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<FlushResult>.GetStatus(short token) => _flush.GetStatus(token);

    void IValueTaskSource<FlushResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _flush.OnCompleted(continuation, state, token, flags);

    /// <summary>Takes the send (<see cref="_sending"/>) if there is something to send and nobody else is sending.</summary>
    private bool StartSendingUnsynchronized(out SendWindow window)
    {
        if (_sending || _waitingForWritable || _ending || _aborted || _sent == _flushed)
        {
            window = default;
            return false;
        }

        _sending = true;
        window = new SendWindow(_head!, _headSent, _flushed - _sent);
        return true;
    }

    /// <summary>For the flush being made: over (the output ended), or waiting (the pause threshold or more unsent), or done.</summary>
    private FlushState FlushStateUnsynchronized()
    {
        if (_ending)
        {
            return FlushState.Over;
        }

        if (_pauseThreshold <= 0 || _flushed - _sent < _pauseThreshold)
        {
            return FlushState.Done;
        }

        _flush.Reset();
        _flushPending = true;
        return FlushState.Waiting;
    }

    private ValueTask<FlushResult> WaitForRoom(CancellationToken cancellationToken)
    {
        ValueTask<FlushResult> waiting = new(this, _flush.Version);
        if (cancellationToken.CanBeCanceled)
        {
            // Only a flush that waits for room registers: never in the steady state.
            _flushCancellation = cancellationToken.UnsafeRegister(s_cancelFlush, this);
        }

        return waiting;
    }

    private void Settle()
    {
        Settlement settlement;
        lock (_lock)
        {
            settlement = SettleUnsynchronized();
        }

        Apply(settlement);
    }

    /// <summary>Decides whether a waiting flush resumes (the unsent bytes fell below the resume threshold) and whether the output is over.</summary>
    private Settlement SettleUnsynchronized()
    {
        Settlement settlement = default;
        bool over = _aborted || _broken;
        if (_flushPending && (over || _flushed - _sent < _resumeThreshold || _sent == _flushed))
        {
            _flushPending = false;
            settlement.ResumeFlush = true;
            settlement.Result = new FlushResult(isCanceled: false, isCompleted: over);
        }

        if (!_ending && !_sending && (over || (_writerCompleted && _sent == _flushed && !_waitingForWritable)))
        {
            _ending = true;
            settlement.End = true;
        }

        return settlement;
    }

    /// <summary>Outside the lock: a resumed flush runs its continuation inline, and the end shuts the socket down.</summary>
    private void Apply(in Settlement settlement)
    {
        if (settlement.ResumeFlush)
        {
            _flushCancellation.Unregister();
            _flush.SetResult(settlement.Result);
        }

        if (settlement.End)
        {
            End();
        }
    }

    private void End()
    {
        bool finished;
        TaskCompletionSource? ended;
        lock (_lock)
        {
            finished = !_aborted && !_broken;
            FreeSentUnsynchronized(all: _writerCompleted);
        }

        // Shut down only after the last byte is in the kernel, and before anyone is told the output is over.
        _connection.SendEnded(finished, _broken);
        lock (_lock)
        {
            _ended = true;
            ended = _endedSource;
        }

        ended?.TrySetResult();
    }

    private void CancelFlush(bool canceledByToken)
    {
        bool resume = false;
        lock (_lock)
        {
            if (_flushPending && (!canceledByToken || _flushToken.IsCancellationRequested))
            {
                _flushPending = false;
                resume = true;
            }
            else if (!canceledByToken)
            {
                // As a Pipe does: a cancellation with no flush waiting cancels the next one.
                _cancelNextFlush = true;
            }
        }

        if (!resume)
        {
            return;
        }

        if (canceledByToken)
        {
            _flush.SetException(new OperationCanceledException("The flush was canceled by its token."));
        }
        else
        {
            _flushCancellation.Unregister();
            _flush.SetResult(new FlushResult(isCanceled: true, isCompleted: false));
        }
    }
}
