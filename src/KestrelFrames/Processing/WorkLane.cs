using System.Threading.Channels;

namespace KestrelFrames.Processing;

/// <summary>
/// One priority lane of the worker pool: its own bounded queue, so that a full lane refuses (Busy or backpressure)
/// only its own requests, and optionally workers reserved for it.
/// </summary>
internal sealed class WorkLane
{
    private readonly Channel<FrameWorkItem> _queue;

    public WorkLane(int index, string name, int priority, int capacity)
    {
        Index = index;
        Name = name;
        Priority = priority;
        Capacity = capacity;
        _queue = Channel.CreateBounded<FrameWorkItem>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
    }

    /// <summary>The lane's place in the pool's lanes and <see cref="FrameWorkItem.Lane"/>; 0 is the default lane.</summary>
    public int Index { get; }

    public string Name { get; }

    /// <summary>Higher runs first; the default lane is 0.</summary>
    public int Priority { get; }

    public int Capacity { get; }

    /// <summary>The workers only this lane may use; null when it reserves none.</summary>
    public WorkerTicket? Reserved { get; set; }

    public int Count => _queue.Reader.Count;

    public bool TryWrite(FrameWorkItem item) => _queue.Writer.TryWrite(item);

    public bool TryRead(out FrameWorkItem item) => _queue.Reader.TryRead(out item!);

    public ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken) => _queue.Writer.WaitToWriteAsync(cancellationToken);

    /// <summary>Refuses new work; what is queued can still be read.</summary>
    public void Complete() => _queue.Writer.TryComplete();
}
