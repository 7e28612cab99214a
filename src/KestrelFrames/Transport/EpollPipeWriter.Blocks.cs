namespace KestrelFrames.Transport;

// The blocks of the output, a list from the oldest unsent byte to the block being written: the writer appends at
// the tail, the sender frees from the head. Everything here runs under _lock.
internal sealed partial class EpollPipeWriter
{
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
}
