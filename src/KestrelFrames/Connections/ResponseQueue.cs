

using KestrelFrames.Primitives;
using KestrelFrames.Processing;

namespace KestrelFrames.Connections;

/// <summary>
/// The answer slots of one connection, in request order: a ring with one producer (the read loop) and one consumer
/// (the write loop). Its capacity is the connection's in-flight limit, so a full ring is what stops the read loop.
/// Slots are created on first use and reused, so an idle connection holds only the empty ring.
/// </summary>
internal sealed class ResponseQueue
{
    private readonly ISlotOwner _connection;
    private readonly FrameWorkItem?[] _slots;
    private readonly AsyncSignal _published = new();
    private readonly AsyncSignal _released = new();
    private int _head;
    private int _tail;
    private int _count;
    private volatile bool _completed;

    public ResponseQueue(ISlotOwner connection, int capacity)
    {
        _connection = connection;
        _slots = new FrameWorkItem?[capacity];
    }

    /// <summary>Answers queued and not yet written.</summary>
    public int Count => Volatile.Read(ref _count);

    public bool IsCompleted => _completed;

    /// <summary>Read loop: the slot for the next frame, or false while every slot is in flight.</summary>
    public bool TryReserve(out FrameWorkItem slot)
    {
        if (Volatile.Read(ref _count) == _slots.Length)
        {
            slot = null!;
            return false;
        }

        slot = _slots[_tail] ??= new FrameWorkItem(_connection);
        return true;
    }

    /// <summary>Read loop: waits until the write loop releases a slot.</summary>
    public ValueTask WaitForReleaseAsync() => _released.WaitAsync();

    /// <summary>Read loop: makes the reserved slot visible to the write loop, in order.</summary>
    public void Publish()
    {
        _tail = (_tail + 1) % _slots.Length;
        _connection.Ledger.Took(LedgerEntry.AnswerSlot);
        Interlocked.Increment(ref _count);
        _published.Set();
    }

    /// <summary>Read loop: no more slots will be published.</summary>
    public void Complete()
    {
        _completed = true;
        _published.Set();
    }

    /// <summary>
    /// Requests published and not yet answered. Reads the ring from outside its two loops, so the figure is
    /// approximate: it is for the shutdown report, never for control.
    /// </summary>
    public int CountUnansweredRequests()
    {
        int head = _head;
        int count = Volatile.Read(ref _count);
        int requests = 0;
        for (int i = 0; i < count; i++)
        {
            if (_slots[(head + i) % _slots.Length] is { Kind: FrameSlotKind.Request })
            {
                requests++;
            }
        }

        return requests;
    }

    /// <summary>Write loop: the oldest unanswered slot.</summary>
    public bool TryPeek(out FrameWorkItem slot)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            slot = null!;
            return false;
        }

        slot = _slots[_head]!;
        return true;
    }

    /// <summary>Write loop: waits until a slot is published or the queue is completed.</summary>
    public ValueTask WaitForPublishAsync() => _published.WaitAsync();

    /// <summary>Write loop: the head slot was answered; reset it for reuse and wake the read loop.</summary>
    public void Release()
    {
        _slots[_head]!.Reset();
        _head = (_head + 1) % _slots.Length;
        _connection.Ledger.Returned(LedgerEntry.AnswerSlot);
        Interlocked.Decrement(ref _count);
        _released.Set();
    }
}
