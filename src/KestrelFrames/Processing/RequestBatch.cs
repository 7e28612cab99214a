namespace KestrelFrames.Processing;

/// <summary>
/// Requests linked through their slots (<see cref="FrameWorkItem.NextInBatch"/>), so a batch costs no allocation.
/// The read loop appends a read's requests in order and hands the head to the pool as one work item; a worker
/// reuses the links for the requests it finished but has not signalled yet, most recent first.
/// </summary>
internal struct RequestBatch
{
    private FrameWorkItem? _tail;

    /// <summary>The first request, or null when the batch is empty.</summary>
    public FrameWorkItem? Head { get; private set; }

    /// <summary>Requests in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Read loop: appends a request, keeping request order.</summary>
    public void Append(FrameWorkItem slot)
    {
        if (_tail is null)
        {
            Head = slot;
        }
        else
        {
            _tail.NextInBatch = slot;
        }

        _tail = slot;
        Count++;
    }

    /// <summary>Worker: puts a finished request in front, so <see cref="SignalAll"/> signals the latest first.</summary>
    public void Push(FrameWorkItem slot)
    {
        slot.NextInBatch = Head;
        Head = slot;
        Count++;
    }

    /// <summary>Hands the requests to their new owner (the pool) and leaves this batch empty.</summary>
    public FrameWorkItem? Take()
    {
        FrameWorkItem? head = Head;
        this = default;
        return head;
    }

    /// <summary>Signals every request of the batch, already finished, in link order; empties it.</summary>
    public void SignalAll() => Walk(Take(), completeWith: null, finish: false);

    /// <summary>Completes every request of the batch with <paramref name="status"/>; empties it.</summary>
    public void CompleteAll(FrameStatus status) => CompleteAll(Take(), status);

    /// <summary>Completes every request linked from <paramref name="head"/> with <paramref name="status"/>.</summary>
    public static void CompleteAll(FrameWorkItem? head, FrameStatus status) => Walk(head, status, finish: true);

    private static void Walk(FrameWorkItem? slot, FrameStatus? completeWith, bool finish)
    {
        while (slot is not null)
        {
            // Read the link first: signalling lets the write loop reset and reuse the slot.
            FrameWorkItem? next = slot.NextInBatch;
            slot.NextInBatch = null;
            if (finish)
            {
                slot.Finish(completeWith);
            }

            slot.Signal();
            slot = next;
        }
    }
}
