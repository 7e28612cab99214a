using KestrelFrames.Protocol;
using Prometheus;

namespace KestrelFrames.Observability;

/// <summary>
/// The frames_* series, in a registry of their own per server so two servers in one process (tests) never mix
/// counts. Labelled children are resolved once here: counting on the hot path is a lock-free add, no lookup,
/// no allocation.
/// </summary>
internal sealed class FrameMetrics
{
    private static readonly double[] s_durationBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Gauge _activeConnections;
    private readonly Counter _connections;
    private readonly Counter.Child _requestsOk;
    private readonly Counter.Child _requestsBusy;
    private readonly Counter.Child _requestsHandlerError;
    private readonly Histogram _requestDuration;
    private readonly Gauge _queueLength;
    private readonly Gauge _workersBusy;

    public FrameMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _activeConnections = factory.CreateGauge("frames_active_connections", "Frame connections open now.");
        _connections = factory.CreateCounter("frames_connections_total", "Frame connections accepted.");
        Counter requests = factory.CreateCounter("frames_requests_total", "Requests answered, by outcome (ok, busy, handler_error).",
            new CounterConfiguration { LabelNames = ["outcome"] });
        _requestsOk = requests.WithLabels("ok");
        _requestsBusy = requests.WithLabels("busy");
        _requestsHandlerError = requests.WithLabels("handler_error");
        _requestDuration = factory.CreateHistogram(
            "frames_request_duration_seconds",
            "Time from a request fully read to its answer handed to the transport.",
            new HistogramConfiguration { Buckets = s_durationBuckets });
        _queueLength = factory.CreateGauge("frames_worker_queue_length", "Requests waiting in the worker pool's queue.");
        _workersBusy = factory.CreateGauge("frames_workers_busy", "Workers running a request now.");
    }

    public CollectorRegistry Registry { get; }

    public void ConnectionOpened()
    {
        _connections.Inc();
        _activeConnections.Inc();
    }

    public void ConnectionClosed() => _activeConnections.Dec();

    public void RequestAnswered(FrameStatus? outcome, TimeSpan duration)
    {
        Counter.Child counter = outcome switch
        {
            null => _requestsOk,
            FrameStatus.Busy => _requestsBusy,
            _ => _requestsHandlerError,
        };
        counter.Inc();
        _requestDuration.Observe(duration.TotalSeconds);
    }

    /// <summary>Samples the pool's gauges at scrape time instead of updating them per request.</summary>
    public void ObserveWorkerPool(Func<int> queueLength, Func<int> workersBusy) =>
        Registry.AddBeforeCollectCallback(() =>
        {
            _queueLength.Set(queueLength());
            _workersBusy.Set(workersBusy());
        });
}
