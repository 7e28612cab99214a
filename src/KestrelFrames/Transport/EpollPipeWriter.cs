using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace KestrelFrames.Transport;

/// <summary>
/// The epoll connection's output: a <see cref="PipeWriter"/> that sends in <see cref="FlushAsync"/>, on the thread
/// that flushes, straight from the blocks written. Ours rather than a <see cref="Pipe"/> read by a send loop: that
/// pair cost ~800 B per connection, idle or not. What the socket refuses (EAGAIN) waits for EPOLLOUT and the loop
/// sends it; a flush waits only while the pause threshold or more is unsent, as a Pipe's does. Completing the writer
/// sends what is left, then a FIN. Blocks go back to the pool as soon as they are sent: an idle connection holds none.
/// </summary>
/// <remarks>
/// One thread sends at a time (<see cref="_sending"/>): the flusher, or the loop after EPOLLOUT. The writer writes
/// only past the flushed mark and the sender reads and frees only before it, and both move those marks under
/// <see cref="_lock"/> (this connection's alone, never held across a system call or a continuation). A waiting
/// flush resumes inline on the thread that made room, as a Pipe with the inline scheduler does.
/// </remarks>
internal sealed class EpollPipeWriter : PipeWriter, IValueTaskSource<FlushResult>
{
    // More blocks than this in one flush go out in more than one sendmsg.
    private const int MaxVectors = 16;

    private static readonly Action<object?> s_cancelFlush = static state => ((EpollPipeWriter)state!).CancelFlush(canceledByToken: true);

    private readonly EpollConnection _connection;
    private readonly SafeHandle _socket;
    private readonly MemoryPool<byte> _pool;
    private readonly long _pauseThreshold;
    private readonly long _resumeThreshold;
    private readonly Lock _lock = new();
    private ManualResetValueTaskSourceCore<FlushResult> _flush;
    private CancellationTokenRegistration _flushCancellation;
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

    public EpollPipeWriter(EpollConnection connection, SafeHandle socket, MemoryPool<byte> pool, PipeOptions options)
    {
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
        bool send;
        lock (_lock)
        {
            if (_cancelNextFlush)
            {
                _cancelNextFlush = false;
                return new(new FlushResult(isCanceled: true, isCompleted: false));
            }

            if (_ending)
            {
                return new(new FlushResult(isCanceled: false, isCompleted: true));
            }

            _flushed = _written;
            send = StartSendingUnsynchronized();
        }

        if (send)
        {
            SendPending();
        }

        lock (_lock)
        {
            if (_ending)
            {
                return new(new FlushResult(isCanceled: false, isCompleted: true));
            }

            if (_pauseThreshold <= 0 || _flushed - _sent < _pauseThreshold)
            {
                return default;
            }

            _flush.Reset();
            _flushPending = true;
        }

        ValueTask<FlushResult> waiting = new(this, _flush.Version);
        if (cancellationToken.CanBeCanceled)
        {
            // Only a flush that waits for room registers: never in the steady state.
            _flushCancellation = cancellationToken.UnsafeRegister(s_cancelFlush, this);
        }

        return waiting;
    }

    public override void CancelPendingFlush() => CancelFlush(canceledByToken: false);

    /// <summary>The writer is done: what it wrote goes out (whatever <paramref name="exception"/> says), then a FIN.</summary>
    public override void Complete(Exception? exception = null)
    {
        bool send;
        lock (_lock)
        {
            if (_writerCompleted)
            {
                return;
            }

            _writerCompleted = true;
            _holding = false;
            _flushed = _written;
            send = StartSendingUnsynchronized();
            if (_ending)
            {
                // Ended (an abort) while the writer still held blocks: nobody else frees them. No send runs now.
                FreeSentUnsynchronized(all: true);
            }
        }

        if (send)
        {
            SendPending();
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
        lock (_lock)
        {
            if (!_waitingForWritable)
            {
                return;
            }

            _waitingForWritable = false;
            send = StartSendingUnsynchronized();
        }

        _connection.UpdateInterest();
        if (send)
        {
            SendPending();
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

    private bool StartSendingUnsynchronized()
    {
        if (_sending || _waitingForWritable || _ending || _aborted || _sent == _flushed)
        {
            return false;
        }

        _sending = true;
        return true;
    }

    /// <summary>
    /// Sends what is flushed until all of it is out or the socket is full, then settles what that decided (a waiting
    /// flush, the end). Runs with <see cref="_sending"/> set, on one thread at a time.
    /// </summary>
    private void SendPending()
    {
        while (true)
        {
            OutputSegment head;
            int offset;
            long count;
            lock (_lock)
            {
                if (_aborted || _sent == _flushed)
                {
                    _sending = false;
                    FreeSentUnsynchronized(all: false);
                    break;
                }

                head = _head!;
                offset = _headSent;
                count = _flushed - _sent;
            }

            long sent;
            try
            {
                sent = Send(head, offset, count);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                // Broken (the input reads the reset) or closed by an abort meanwhile.
                lock (_lock)
                {
                    _broken = true;
                    _sending = false;
                }

                break;
            }

            if (sent == 0)
            {
                lock (_lock)
                {
                    _sending = false;
                    _waitingForWritable = !_aborted;
                }

                // Level-triggered: if room appeared before this watch, epoll reports it at once, so nothing is missed.
                _connection.UpdateInterest();
                break;
            }

            lock (_lock)
            {
                ConsumeUnsynchronized(sent);
            }
        }

        Settle();
    }

    /// <summary>Resumes a waiting flush once the unsent bytes fall below the resume threshold, and ends the output once it is over.</summary>
    private void Settle()
    {
        bool resume = false;
        bool end = false;
        FlushResult result = default;
        lock (_lock)
        {
            bool over = _aborted || _broken;
            if (_flushPending && (over || _flushed - _sent < _resumeThreshold || _sent == _flushed))
            {
                _flushPending = false;
                resume = true;
                result = new FlushResult(isCanceled: false, isCompleted: over);
            }

            if (!_ending && !_sending && (over || (_writerCompleted && _sent == _flushed && !_waitingForWritable)))
            {
                _ending = true;
                end = true;
            }
        }

        if (resume)
        {
            _flushCancellation.Unregister();
            _flush.SetResult(result);
        }

        if (end)
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
            if (_flushPending)
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

    private OutputSegment ReserveUnsynchronized(int size)
    {
        if (_tail is { } tail && tail.Memory.Length - tail.End >= size)
        {
            return tail;
        }

        if (_tail is not null && _sent == _written)
        {
            // All of the full tail is sent, and nothing holds it: free it, the new block takes its place.
            FreeSentUnsynchronized(all: true);
        }

        OutputSegment segment = _spare ?? new OutputSegment();
        _spare = null;
        segment.Rent(_pool, size);
        if (_tail is null)
        {
            _head = _tail = segment;
            _headSent = 0;
        }
        else
        {
            _tail.Next = segment;
            _tail = segment;
        }

        return segment;
    }

    private void ConsumeUnsynchronized(long sent)
    {
        _sent += sent;
        while (sent > 0)
        {
            OutputSegment head = _head!;
            int unsent = head.End - _headSent;
            if (sent < unsent || head == _tail)
            {
                _headSent += (int)sent;
                return;
            }

            sent -= unsent;
            _head = head.Next;
            _headSent = 0;
            Free(head);
        }
    }

    /// <summary>
    /// Frees the blocks that are wholly sent: the tail too once the writer no longer holds it (or with
    /// <paramref name="all"/>, every block, when the writer is done or gone and nothing more will be sent).
    /// </summary>
    private void FreeSentUnsynchronized(bool all)
    {
        bool tailSent = _head == _tail && _head is { } head && _headSent == head.End;
        if (!all && (_holding || !tailSent))
        {
            return;
        }

        while (_head is { } segment)
        {
            _head = segment.Next;
            Free(segment);
        }

        _tail = null;
        _headSent = 0;
    }

    private void Free(OutputSegment segment)
    {
        segment.Return();
        _spare ??= segment;
    }

    /// <summary>Bytes sent, or 0 when the socket buffer is full. Throws on a broken connection.</summary>
    private unsafe long Send(OutputSegment head, int offset, long count)
    {
        while (true)
        {
            nint sent;
            if (head.End - offset >= count)
            {
                fixed (byte* bytes = head.Memory.Span)
                {
                    sent = Libc.Send(_socket, bytes + offset, (nuint)count, Libc.MSG_NOSIGNAL);
                }
            }
            else
            {
                sent = SendVectors(head, offset, count);
            }

            if (sent >= 0)
            {
                return sent;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EAGAIN)
            {
                return 0;
            }

            if (errno != Libc.EINTR)
            {
                throw EpollConnection.SocketError("send", errno);
            }
        }
    }

    private unsafe nint SendVectors(OutputSegment head, int offset, long count)
    {
        Pins pins = default;
        Libc.IoVector* vectors = stackalloc Libc.IoVector[MaxVectors];
        int vectorCount = 0;
        try
        {
            for (OutputSegment? segment = head; segment is not null && count > 0 && vectorCount < MaxVectors; segment = segment.Next)
            {
                int length = (int)Math.Min(segment.End - offset, count);
                if (length > 0)
                {
                    pins[vectorCount] = segment.Memory.Pin();
                    vectors[vectorCount++] = new Libc.IoVector { Base = (byte*)pins[vectorCount - 1].Pointer + offset, Length = (nuint)length };
                    count -= length;
                }

                offset = 0;
            }

            Libc.MessageHeader message = new() { Vectors = vectors, VectorCount = (nuint)vectorCount };
            return Libc.SendMessage(_socket, &message, Libc.MSG_NOSIGNAL);
        }
        finally
        {
            for (int i = 0; i < vectorCount; i++)
            {
                pins[i].Dispose();
            }
        }
    }

    [InlineArray(MaxVectors)]
    private struct Pins
    {
        private MemoryHandle _first;
    }
}
