using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using KestrelFrames.Observability;
using KestrelFrames.Primitives;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KestrelFrames.Processing;

/// <summary>
/// Runs requests on at most <see cref="FrameServerOptions.Workers"/> concurrent workers, fed by a bounded channel of
/// <see cref="FrameServerOptions.QueueCapacity"/>. Workers are started on demand on the thread pool and exit when the
/// channel is empty, instead of parking on it: a parked multi-reader channel read allocates per wake-up, and this
/// pool must allocate nothing per request.
/// </summary>
internal sealed partial class WorkerPool : IHostedService, IThreadPoolWorkItem, IDisposable
{
    private readonly Channel<FrameWorkItem> _queue;
    private readonly IFrameHandler _handler;
    private readonly ILogger<WorkerPool> _logger;
    private readonly TimeProvider _time;
    private readonly LogThrottle _logThrottle;
    private readonly int _maxWorkers;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _running;
    private volatile bool _stopping;

    public WorkerPool(IOptions<FrameServerOptions> options, IFrameHandler handler, TimeProvider time, ILogger<WorkerPool> logger)
    {
        _time = time;
        _logThrottle = new LogThrottle("handler error", LogLevel.Error, logger, time);
        FrameServerOptions value = options.Value;
        _maxWorkers = value.Workers;
        QueueCapacity = value.QueueCapacity;
        _handler = handler;
        _logger = logger;
        _queue = Channel.CreateBounded<FrameWorkItem>(new BoundedChannelOptions(value.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = false,
            SingleWriter = false,
        });
    }

    public int QueueLength => _queue.Reader.Count;

    public int QueueCapacity { get; }

    public int BusyWorkers => Volatile.Read(ref _running);

    /// <summary>True from start until the pool has stopped; the liveness check reports it.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Queues a request; false when the queue is full or the pool has stopped.</summary>
    public bool TrySubmit(FrameWorkItem item)
    {
        if (!_queue.Writer.TryWrite(item))
        {
            return false;
        }

        StartWorkerIfIdle();
        return true;
    }

    /// <summary>Completes when the queue may have room; false once the pool has stopped taking work.</summary>
    public ValueTask<bool> WaitForSpaceAsync(CancellationToken cancellationToken) =>
        _queue.Writer.WaitToWriteAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken)
    {
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
        _queue.Writer.TryComplete();
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

    /// <summary>Reports the handler errors the throttle still holds back.</summary>
    public void Dispose() => _logThrottle.Dispose();

    void IThreadPoolWorkItem.Execute()
    {
        // DrainAsync catches everything per request, so the discarded task can never fault.
#pragma warning disable CA2012
        _ = DrainAsync();
#pragma warning restore CA2012
    }

    private void StartWorkerIfIdle()
    {
        int running = Volatile.Read(ref _running);
        while (running < _maxWorkers)
        {
            int seen = Interlocked.CompareExchange(ref _running, running + 1, running);
            if (seen == running)
            {
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
                return;
            }

            running = seen;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DrainAsync()
    {
        while (true)
        {
            while (_queue.Reader.TryRead(out FrameWorkItem? item))
            {
                await RunBatchAsync(item);
            }

            Interlocked.Decrement(ref _running);

            // A submit that saw every worker running may have queued after our last TryRead: look once more.
            // Either it sees our decrement and starts a worker, or we see its item here.
            if (_queue.Reader.Count == 0)
            {
                SignalIfDrained();
                return;
            }

            int running = Volatile.Read(ref _running);
            if (running >= _maxWorkers || Interlocked.CompareExchange(ref _running, running + 1, running) != running)
            {
                return;
            }
        }
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
        if (_stopping && Volatile.Read(ref _running) == 0 && _queue.Reader.Count == 0)
        {
            _drained.TrySetResult();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Frame handler failed on connection {ConnectionId}; answered HandlerError.")]
    private static partial void LogHandlerFailed(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Frame handler on connection {ConnectionId} stopped when the connection was aborted.")]
    private static partial void LogHandlerCancelled(ILogger logger, string connectionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Worker pool stopped with {Queued} queued and {Running} running requests abandoned at the shutdown timeout.")]
    private static partial void LogStopTimedOut(ILogger logger, int queued, int running);
}
