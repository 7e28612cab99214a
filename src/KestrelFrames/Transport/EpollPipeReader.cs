using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace KestrelFrames.Transport;

/// <summary>
/// The epoll connection's input: a <see cref="PipeReader"/> over the blocks the loop receives into, with a Pipe's
/// semantics for everything above (<c>AdvanceTo(consumed, examined)</c>, <c>CancelPendingRead</c>, completion both
/// ways, a writer paused at the pause threshold of bytes not yet examined). Ours rather than a <see cref="Pipe"/>:
/// that held ~500 B per connection, idle or not, this reader and its spare segment ~330 B, and a paused receive
/// resumes by a post instead of an awaited flush. The loop is the only writer (<see cref="GetWriteMemory"/>,
/// <see cref="AdvanceWrite"/>, <see cref="Publish"/>); a block is freed as soon as it is consumed, so an idle
/// connection holds none.
/// </summary>
/// <remarks>
/// Positions are absolute byte counts (a segment's <c>RunningIndex</c> plus an index in it). All state moves under
/// the connection's lock, never held across a continuation: a waiting read resumes inline on the loop's thread, so
/// the application parses what arrived right there, as with a Pipe whose reader scheduler is inline.
/// </remarks>
internal sealed partial class EpollPipeReader : PipeReader, IValueTaskSource<ReadResult>
{
    private static readonly Action<object?> s_cancelRead = static state => ((EpollPipeReader)state!).CancelRead(canceledByToken: true);

    private readonly EpollConnection _connection;
    private readonly MemoryPool<byte> _pool;
    private readonly Lock _lock;
    private readonly long _pauseThreshold;
    private readonly long _resumeThreshold;
    private ManualResetValueTaskSourceCore<ReadResult> _read;
    private CancellationTokenRegistration _readCancellation;

    // The pending read's token. A registration is made after the lock, so it can outlive its read (one completed
    // first, and its Unregister ran on the old one): its callback fails a read only if it is this token that fired,
    // as a Pipe checks, never a later read of another caller (the frame loop's, after the PROXY header's timeout).
    private CancellationToken _readToken;
    private Exception? _writerError;

    // The oldest unconsumed byte is _headIndex into _head; the loop receives into _tail, or into _writeSegment, a new
    // block linked only once bytes arrive in it. _spare keeps the segment object of the last block freed.
    private InputSegment? _head;
    private InputSegment? _tail;
    private InputSegment? _writeSegment;
    private InputSegment? _spare;
    private InputSegment? _publishedSegment;
    private int _headIndex;
    private int _publishedEnd;
    private long _consumed;
    private long _examined;
    private long _published;
    private long _written;

    private bool _readPending;
    private bool _cancelNextRead;
    private bool _writerPaused;
    private bool _writerCompleted;
    private bool _readerCompleted;

    public EpollPipeReader(EpollConnection connection, Lock sync, MemoryPool<byte> pool, PipeOptions options)
    {
        _connection = connection;
        // The connection's lock, shared with its output and its epoll interest: each holds it briefly.
        _lock = sync;
        _pool = pool;
        _pauseThreshold = options.PauseWriterThreshold;
        _resumeThreshold = options.ResumeWriterThreshold;
        _read.RunContinuationsAsynchronously = false;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (TryReadUnsynchronized(out ReadResult result, unconsumed: false))
            {
                return new(result);
            }

            _read.Reset();
            _readPending = true;
            _readToken = cancellationToken;
        }

        ValueTask<ReadResult> waiting = new(this, _read.Version);
        if (cancellationToken.CanBeCanceled)
        {
            // Only a read that waits registers; the frame connection's reads pass no token.
            _readCancellation = cancellationToken.UnsafeRegister(s_cancelRead, this);
        }

        return waiting;
    }

    public override bool TryRead(out ReadResult result)
    {
        lock (_lock)
        {
            // As a Pipe's: whatever is unconsumed, examined or not.
            return TryReadUnsynchronized(out result, unconsumed: true);
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        bool resume = false;
        lock (_lock)
        {
            long consumedAt = PositionOf(consumed);
            _examined = Math.Max(_examined, Math.Max(consumedAt, PositionOf(examined)));
            if (consumedAt > _consumed)
            {
                _consumed = consumedAt;
                FreeConsumedUnsynchronized((InputSegment)consumed.GetObject()!, consumed.GetInteger());
            }

            if (_writerPaused && _published - _examined < _resumeThreshold)
            {
                _writerPaused = false;
                resume = true;
            }
        }

        if (resume)
        {
            _connection.InputHasRoom(readerDone: false);
        }
    }

    public override void CancelPendingRead() => CancelRead(canceledByToken: false);

    public override void Complete(Exception? exception = null)
    {
        bool resume;
        lock (_lock)
        {
            if (_readerCompleted)
            {
                return;
            }

            _readerCompleted = true;
            FreeAllUnsynchronized();
            resume = _writerPaused;
            _writerPaused = false;
        }

        if (resume)
        {
            _connection.InputHasRoom(readerDone: true);
        }
    }

    ReadResult IValueTaskSource<ReadResult>.GetResult(short token) => _read.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<ReadResult>.GetStatus(short token) => _read.GetStatus(token);

    void IValueTaskSource<ReadResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _read.OnCompleted(continuation, state, token, flags);

    /// <param name="result">The read's result, when there is one.</param>
    /// <param name="unconsumed">Any unconsumed byte makes a result, not only bytes beyond those examined.</param>
    private bool TryReadUnsynchronized(out ReadResult result, bool unconsumed)
    {
        if (_readerCompleted)
        {
            throw new InvalidOperationException("Reading is not allowed after the reader was completed.");
        }

        if (_cancelNextRead)
        {
            // As a Pipe does: a cancellation with no read waiting cancels the next one.
            _cancelNextRead = false;
            result = new ReadResult(BufferUnsynchronized(), isCanceled: true, isCompleted: false);
            return true;
        }

        if (_writerCompleted && _writerError is { } error)
        {
            // As a Pipe does: the writer's error, even with bytes still unread.
            ExceptionDispatchInfo.Throw(error);
        }

        if (_published > (unconsumed ? _consumed : _examined) || _writerCompleted)
        {
            result = new ReadResult(BufferUnsynchronized(), isCanceled: false, isCompleted: _writerCompleted);
            return true;
        }

        result = default;
        return false;
    }

    private void CancelRead(bool canceledByToken)
    {
        bool resume = false;
        ReadResult result = default;
        lock (_lock)
        {
            if (_readPending && (!canceledByToken || _readToken.IsCancellationRequested))
            {
                _readPending = false;
                resume = true;
                result = new ReadResult(BufferUnsynchronized(), isCanceled: true, isCompleted: false);
            }
            else if (!canceledByToken)
            {
                _cancelNextRead = true;
            }
        }

        if (!resume)
        {
            return;
        }

        if (canceledByToken)
        {
            _read.SetException(new OperationCanceledException("The read was canceled by its token."));
        }
        else
        {
            _readCancellation.Unregister();
            _read.SetResult(result);
        }
    }

    /// <summary>The unconsumed bytes published so far. A published segment since freed was wholly consumed: empty.</summary>
    private ReadOnlySequence<byte> BufferUnsynchronized() =>
        _published == _consumed
            ? ReadOnlySequence<byte>.Empty
            : new ReadOnlySequence<byte>(_head!, _headIndex, _publishedSegment!, _publishedEnd);

    private long PositionOf(SequencePosition position) =>
        position.GetObject() is InputSegment segment ? segment.RunningIndex + position.GetInteger() : _consumed;

    private void FreeConsumedUnsynchronized(InputSegment segment, int index)
    {
        while (_head != segment)
        {
            InputSegment done = _head!;
            _head = done.NextSegment;
            Free(done);
        }

        _headIndex = index;
        while (_head is { } head && _headIndex == head.End && (head != _tail || head != _writeSegment))
        {
            // Wholly consumed, and the loop is not receiving into it: freed now, so an idle connection holds no block.
            _head = head.NextSegment;
            _headIndex = 0;
            if (head == _tail)
            {
                _tail = null;
            }

            Free(head);
        }
    }

    private void FreeAllUnsynchronized()
    {
        while (_head is { } head)
        {
            _head = head.NextSegment;
            if (head != _writeSegment)
            {
                Free(head);
            }
        }

        // A block the loop is receiving into goes back when its receive ends (AdvanceWrite).
        _tail = null;
        _headIndex = 0;
    }

    private void Free(InputSegment segment)
    {
        segment.Return();
        _spare ??= segment;
    }
}
