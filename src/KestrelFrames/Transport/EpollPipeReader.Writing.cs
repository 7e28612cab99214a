using System.IO.Pipelines;

namespace KestrelFrames.Transport;

// The writing side, the loop's alone: it receives into the memory given here, then publishes what arrived.
internal sealed partial class EpollPipeReader
{
    /// <summary>On the loop's thread: room for a receive of at least <paramref name="sizeHint"/> bytes (at most a block).</summary>
    public Memory<byte> GetWriteMemory(int sizeHint)
    {
        lock (_lock)
        {
            if (_tail is { } tail && tail.Block.Length - tail.End >= sizeHint)
            {
                _writeSegment = tail;
                return tail.Block[tail.End..];
            }

            InputSegment segment = _spare ?? new InputSegment();
            _spare = null;
            segment.Rent(_pool, sizeHint);
            _writeSegment = segment;
            return segment.Block;
        }
    }

    /// <summary>On the loop's thread: <paramref name="bytes"/> (0 too) landed in the memory of <see cref="GetWriteMemory"/>.</summary>
    public void AdvanceWrite(int bytes)
    {
        lock (_lock)
        {
            InputSegment segment = _writeSegment!;
            _writeSegment = null;
            if (segment != _tail)
            {
                if (bytes == 0)
                {
                    // Nothing arrived (EAGAIN, the end of the stream): the block goes straight back.
                    Free(segment);
                    return;
                }

                segment.Link(_tail, _written);
                _head ??= segment;
                _tail = segment;
            }

            segment.End += bytes;
            _written += bytes;
            if (_readerCompleted)
            {
                FreeAllUnsynchronized();
            }
        }
    }

    /// <summary>
    /// On the loop's thread: makes what was received readable, resuming a waiting read inline (the application
    /// parses it before this returns), and says whether to go on receiving.
    /// </summary>
    public InputFlush Publish()
    {
        ReadResult result;
        lock (_lock)
        {
            if (_readerCompleted)
            {
                return InputFlush.ReaderDone;
            }

            PublishUnsynchronized();
            if (!_readPending || !TryReadUnsynchronized(out result, unconsumed: false))
            {
                // Nobody waits (the reader is busy with earlier bytes): the pause is decided now, in the same lock.
                return PauseUnsynchronized();
            }

            _readPending = false;
        }

        _readCancellation.Unregister();
        _read.SetResult(result);
        lock (_lock)
        {
            // After the read ran inline: what it consumed counts.
            return _readerCompleted ? InputFlush.ReaderDone : PauseUnsynchronized();
        }
    }

    private InputFlush PauseUnsynchronized()
    {
        // Bytes not yet examined, as a Pipe counts them: a reader that examined everything waits for more, and a
        // frame larger than the threshold (the reader keeps it unconsumed until it is whole) would otherwise stop the
        // receive that completes it, for good. Holding examined bytes is the reader's to bound (the budget does).
        _writerPaused = _pauseThreshold > 0 && _published - _examined >= _pauseThreshold;
        return _writerPaused ? InputFlush.Paused : InputFlush.Continue;
    }

    /// <summary>On the loop's thread: the input is over, with <paramref name="error"/> if it broke; a waiting read learns it now.</summary>
    public void CompleteWriting(Exception? error)
    {
        bool resume;
        ReadResult result = default;
        lock (_lock)
        {
            if (_writerCompleted)
            {
                return;
            }

            _writerCompleted = true;
            _writerError = error;
            PublishUnsynchronized();
            resume = _readPending;
            _readPending = false;
            if (resume && error is null)
            {
                result = new ReadResult(BufferUnsynchronized(), isCanceled: false, isCompleted: true);
            }
        }

        if (resume)
        {
            _readCancellation.Unregister();
            if (error is null)
            {
                _read.SetResult(result);
            }
            else
            {
                _read.SetException(error);
            }
        }
    }

    private void PublishUnsynchronized()
    {
        // The tail, not a position computed later: the loop may link a newer tail before this is read.
        _published = _written;
        _publishedSegment = _tail;
        _publishedEnd = _tail?.End ?? 0;
    }
}
