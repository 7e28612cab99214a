using System.Diagnostics;
using System.Runtime.CompilerServices;
using KestrelFrames.Observability;
using KestrelFrames.Primitives;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Processing;

/// <summary>
/// Runs requests on at most <see cref="FrameServerOptions.Workers"/> concurrent workers, fed by bounded queues: one
/// per priority lane (<see cref="WorkLane"/>), and just the default lane of <see cref="FrameServerOptions.QueueCapacity"/>
/// unless an <see cref="IFrameLaneClassifier"/> is registered. Workers are started on demand on the thread pool and
/// exit when their lanes are empty, instead of parking on a queue: a parked multi-reader channel read allocates per
/// wake-up, and this pool must allocate nothing per request. Shared workers take the highest lane's work first; a
/// lane's reserved workers (<see cref="WorkerTicket"/>) serve only it.
/// </summary>
internal sealed partial class WorkerPool : IHostedService, IDisposable
{
    private readonly WorkLane[] _lanes;
    private readonly WorkerTicket _shared;
    private readonly WorkerTicket[] _tickets;
    private readonly IFrameHandler _handler;
    private readonly ILogger<WorkerPool> _logger;
    private readonly TimeProvider _time;
    private readonly LogThrottle _logThrottle;
    private readonly int _ignoredLanes;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;

    public WorkerPool(
        IOptions<FrameServerOptions> options,
        IFrameHandler handler,
        TimeProvider time,
        ILogger<WorkerPool> logger,
        IFrameLaneClassifier? classifier = null)
    {
        _time = time;
        _logThrottle = new LogThrottle("handler error", LogLevel.Error, logger, time);
        FrameServerOptions value = options.Value;
        _handler = handler;
        _logger = logger;

        // Without a classifier nothing could reach a configured lane: one lane, and no worker withheld for others.
        List<WorkLane> lanes = [new WorkLane(0, LaneNames.Default, 0, value.QueueCapacity)];
        if (classifier is not null)
        {
            foreach ((string name, FrameLaneOptions lane) in value.Lanes.OrderBy(l => l.Key, StringComparer.OrdinalIgnoreCase))
            {
                // Interned, so that the classifier's literals match by reference (LaneRouter).
                lanes.Add(new WorkLane(lanes.Count, string.Intern(name), lane.Priority, lane.QueueCapacity));
            }
        }
        else
        {
            _ignoredLanes = value.Lanes.Count;
        }

        _lanes = [.. lanes];
        WorkLane[] byPriority = [.. lanes.OrderByDescending(l => l.Priority)];
        int reserved = 0;
        List<WorkerTicket> tickets = [];
        foreach (WorkLane lane in _lanes)
        {
            int laneReserved = lane.Index == 0 ? 0 : value.Lanes[lane.Name].ReservedWorkers;
            if (laneReserved > 0)
            {
                lane.Reserved = new WorkerTicket(this, [lane], laneReserved);
                tickets.Add(lane.Reserved);
                reserved += laneReserved;
            }
        }

        _shared = new WorkerTicket(this, byPriority, value.Workers - reserved);
        tickets.Add(_shared);
        _tickets = [.. tickets];
        QueueCapacity = _lanes.Sum(l => l.Capacity);
        LanesByPriority = [.. byPriority.Select(l => l.Index)];
        Router = classifier is null ? null : new LaneRouter(classifier, [.. _lanes.Select(l => l.Name)], logger, time);
    }

    /// <summary>Work items waiting, over all lanes.</summary>
    public int QueueLength
    {
        get
        {
            int length = 0;
            foreach (WorkLane lane in _lanes)
            {
                length += lane.Count;
            }

            return length;
        }
    }

    /// <summary>The queues' capacity, over all lanes.</summary>
    public int QueueCapacity { get; }

    public int BusyWorkers
    {
        get
        {
            int busy = 0;
            foreach (WorkerTicket ticket in _tickets)
            {
                busy += ticket.Running;
            }

            return busy;
        }
    }

    /// <summary>The lanes by index (<see cref="FrameWorkItem.Lane"/>); 0 is the default lane, the only one without a classifier.</summary>
    public IReadOnlyList<WorkLane> Lanes => _lanes;

    /// <summary>Lane indexes, highest priority first: the order in which a read's requests are handed over.</summary>
    public int[] LanesByPriority { get; }

    /// <summary>Picks each request's lane; null without a classifier, when every request is in lane 0.</summary>
    public LaneRouter? Router { get; }

    /// <summary>True from start until the pool has stopped; the liveness check reports it.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Queues a request in its lane (<see cref="FrameWorkItem.Lane"/>); false when that lane is full or the pool has stopped.</summary>
    public bool TrySubmit(FrameWorkItem item)
    {
        WorkLane lane = _lanes[item.Lane];
        if (!lane.TryWrite(item))
        {
            return false;
        }

        // Reserved workers first, so that the shared ones stay free for the lanes that have none.
        if (lane.Reserved is null || !lane.Reserved.TryStart())
        {
            _shared.TryStart();
        }

        return true;
    }

    /// <summary>Completes when the default lane may have room; false once the pool has stopped taking work.</summary>
    public ValueTask<bool> WaitForSpaceAsync(CancellationToken cancellationToken) => WaitForSpaceAsync(0, cancellationToken);

    /// <summary>Completes when <paramref name="lane"/> may have room; false once the pool has stopped taking work.</summary>
    public ValueTask<bool> WaitForSpaceAsync(int lane, CancellationToken cancellationToken) =>
        _lanes[lane].WaitToWriteAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_ignoredLanes > 0)
        {
            LogLanesIgnored(_logger, _ignoredLanes);
        }

        IsRunning = true;
        return Task.CompletedTask;
    }

    /// <summary>
    /// The host stops hosted services in reverse order, so Kestrel (registered after us) has drained every
    /// connection before this runs: the queue is normally empty. Whatever is left is finished, not dropped.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;

        // A worker leaves (an interlocked exit) and then reads _stopping; this side stores it and then reads the busy
        // count: without a fence between, each could miss the other and the drain wait for the shutdown timeout.
        Interlocked.MemoryBarrier();
        foreach (WorkLane lane in _lanes)
        {
            lane.Complete();
        }

        SignalIfDrained();
        try
        {
            await _drained.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            LogStopTimedOut(_logger, QueueLength, BusyWorkers);
        }
        finally
        {
            IsRunning = false;
        }
    }

    /// <summary>Reports the handler errors and classifier faults the throttles still hold back.</summary>
    public void Dispose()
    {
        _logThrottle.Dispose();
        Router?.Dispose();
    }

    /// <summary>One worker of <paramref name="ticket"/>'s kind: runs its lanes' work, highest lane first, until they are empty.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask DrainAsync(WorkerTicket ticket)
    {
        do
        {
            // Lanes are looked at again after every batch, so higher work that arrived meanwhile goes next.
            while (ticket.TryTake(out FrameWorkItem item))
            {
                await RunBatchAsync(item);
            }

            ticket.Exit();
            SignalIfDrained();
        }
        while (ticket.TryResume());
    }

    /// <summary>
    /// Runs a batch (the requests of one read, linked by <see cref="FrameWorkItem.NextInBatch"/>) in order. Handlers
    /// that finish synchronously are signalled together at the end, last first, so their answers leave in one flush.
    /// A handler that goes asynchronous hands the rest of the batch back to the queue first: pipelined requests
    /// to slow handlers still run in parallel.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunBatchAsync(FrameWorkItem? item)
    {
        // Finished slots not yet signalled, most recent first (linked through NextInBatch, which is free again).
        RequestBatch finished = default;
        while (item is not null)
        {
            FrameWorkItem? next = item.NextInBatch;
            ValueTask handling = StartHandler(item);
            if (handling.IsCompleted)
            {
                FrameStatus? status = Observe(item, handling);
                item.Finish(status);
                finished.Push(item);
                item = next;
                continue;
            }

            if (next is not null && TrySubmit(next))
            {
                next = null;
            }

            finished.SignalAll();
            FrameStatus? outcome = null;
            try
            {
                await handling;
            }
#pragma warning disable CA1031 // A handler's failure answers its own request and must not end the worker.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                outcome = Failed(item, ex);
            }

            item.NextInBatch = null;
            item.Complete(outcome);
            item = next;
        }

        finished.SignalAll();
    }

    private ValueTask StartHandler(FrameWorkItem item)
    {
        Activity? previous = item.EnterSpan(_time);
        try
        {
            return _handler.HandleAsync(item, item.Aborted);
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return ValueTask.FromException(ex);
        }
        finally
        {
            RequestSpan.Exit(previous);
        }
    }

    private FrameStatus? Observe(FrameWorkItem item, ValueTask completed)
    {
        if (completed.IsCompletedSuccessfully)
        {
            return null;
        }

        try
        {
            completed.GetAwaiter().GetResult();
            return null;
        }
#pragma warning disable CA1031
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return Failed(item, ex);
        }
    }

    private FrameStatus Failed(FrameWorkItem item, Exception ex)
    {
        if (ex is OperationCanceledException && item.Aborted.IsCancellationRequested)
        {
            // The handler honoured the abort token: the connection broke or timed out, and no one will read the
            // answer. An ordinary disconnect, not a handler failure worth an Error line.
            LogHandlerCancelled(_logger, item.ConnectionId);
        }
        else if (_logThrottle.TryEnter())
        {
            LogHandlerFailed(_logger, item.ConnectionId, ex);
        }

        return FrameStatus.HandlerError;
    }

    private void SignalIfDrained()
    {
        if (_stopping && BusyWorkers == 0 && QueueLength == 0)
        {
            _drained.TrySetResult();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Frame handler failed on connection {ConnectionId}; answered HandlerError.")]
    private static partial void LogHandlerFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame handler on connection {ConnectionId} stopped when the connection was aborted.")]
    private static partial void LogHandlerCancelled(ILogger logger, string connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Frames:Lanes configures {Lanes} lanes, but no IFrameLaneClassifier is registered: every request runs in the default lane, with all of Frames:Workers.")]
    private static partial void LogLanesIgnored(ILogger logger, int lanes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker pool stopped with {Queued} queued and {Running} running requests abandoned at the shutdown timeout.")]
    private static partial void LogStopTimedOut(ILogger logger, int queued, int running);
}
