using System.Collections.Concurrent;

namespace KestrelFrames.Client.Internal;

/// <summary>
/// Keeps finished <see cref="PendingRequest"/> instances for reuse, up to a bound: one fast slot, then a queue (the
/// shape of Microsoft.Extensions.ObjectPool's default pool).
/// </summary>
internal sealed class PendingRequestPool(int maxRetained)
{
    private readonly ConcurrentQueue<PendingRequest> _items = new();
    private PendingRequest? _fastItem;
    private int _count;

    public PendingRequest Rent()
    {
        PendingRequest? item = _fastItem;
        if (item is not null && Interlocked.CompareExchange(ref _fastItem, null, item) == item)
        {
            return item;
        }

        if (_items.TryDequeue(out item))
        {
            Interlocked.Decrement(ref _count);
            return item;
        }

        return new PendingRequest(this);
    }

    public void Return(PendingRequest item)
    {
        if (_fastItem is null && Interlocked.CompareExchange(ref _fastItem, item, null) is null)
        {
            return;
        }

        if (Interlocked.Increment(ref _count) <= maxRetained)
        {
            _items.Enqueue(item);
            return;
        }

        Interlocked.Decrement(ref _count);
    }
}
