namespace KestrelFrames.Processing;

/// <summary>
/// A kind of worker and how many of it may run: the shared workers, which serve every lane highest first, or one
/// lane's reserved workers, which serve that lane only. Workers start on demand on the thread pool and exit when
/// their lanes are empty (see <see cref="WorkerPool"/>); one instance stands for all workers of its kind, so
/// starting one allocates nothing.
/// </summary>
internal sealed class WorkerTicket : IThreadPoolWorkItem
{
    private readonly WorkerPool _pool;
    private readonly WorkLane[] _serves;
    private readonly int _max;
    private int _running;

    // serves: the lanes these workers take work from, highest priority first.
    public WorkerTicket(WorkerPool pool, WorkLane[] serves, int max)
    {
        _pool = pool;
        _serves = serves;
        _max = max;
    }

    public int Running => Volatile.Read(ref _running);

    /// <summary>Starts a worker of this kind unless all of them are running.</summary>
    public bool TryStart()
    {
        int running = Volatile.Read(ref _running);
        while (running < _max)
        {
            int seen = Interlocked.CompareExchange(ref _running, running + 1, running);
            if (seen == running)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                return true;
            }

            running = seen;
        }

        return false;
    }

    /// <summary>The next work item of the highest lane that has one.</summary>
    public bool TryTake(out FrameWorkItem item)
    {
        foreach (WorkLane lane in _serves)
        {
            if (lane.TryRead(out item))
            {
                return true;
            }
        }

        item = null!;
        return false;
    }

    /// <summary>A worker found its lanes empty and stops counting as running.</summary>
    public void Exit() => Interlocked.Decrement(ref _running);

    /// <summary>
    /// Called after <see cref="Exit"/>: a submit that saw every worker of this kind running may have queued after the
    /// worker's last <see cref="TryTake"/>. Either it saw the exit and started a worker, or this sees its item and
    /// the worker carries on (true) if no other one took its place.
    /// </summary>
    public bool TryResume()
    {
        if (!HasWork())
        {
            return false;
        }

        int running = Volatile.Read(ref _running);
        return running < _max && Interlocked.CompareExchange(ref _running, running + 1, running) == running;
    }

    void IThreadPoolWorkItem.Execute()
    {
        // DrainAsync catches everything per request, so the discarded task can never fault.
#pragma warning disable CA2012
        _ = _pool.DrainAsync(this);
#pragma warning restore CA2012
    }

    private bool HasWork()
    {
        foreach (WorkLane lane in _serves)
        {
            if (lane.Count > 0)
            {
                return true;
            }
        }

        return false;
    }
}
