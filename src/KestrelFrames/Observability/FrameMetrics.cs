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
    private readonly Counter.Child _rejectedConnectionLimit;
    private readonly Counter.Child _rejectedPerIpLimit;
    private readonly Counter _probes;
    private readonly Counter.Child[] _protocolErrors;
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
        Counter rejected = factory.CreateCounter(
            "frames_connections_rejected_total",
            "Frame connections refused at accept, by reason (connection_limit, per_ip_limit).",
            new CounterConfiguration { LabelNames = ["reason"] });
        _rejectedConnectionLimit = rejected.WithLabels("connection_limit");
        _rejectedPerIpLimit = rejected.WithLabels("per_ip_limit");
        _probes = factory.CreateCounter("frames_connections_probe_total", "Frame connections closed before sending a byte (load balancer TCP probes).");
        Counter protocolErrors = factory.CreateCounter(
            "frames_protocol_errors_total",
            "Connections closed for a client's fault, by reason (frame_too_large, protocol_error, frame_timeout, idle_timeout, write_timeout).",
            new CounterConfiguration { LabelNames = ["reason"] });
        _protocolErrors = [.. Enum.GetValues<ProtocolErrorReason>().Select(r => protocolErrors.WithLabels(LabelOf(r)))];
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

    public void ConnectionRejected(bool perIp) => (perIp ? _rejectedPerIpLimit : _rejectedConnectionLimit).Inc();

    public void ProbeConnection() => _probes.Inc();

    public void ProtocolError(ProtocolErrorReason reason) => _protocolErrors[(int)reason].Inc();

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

    private static string LabelOf(ProtocolErrorReason reason) => reason switch
    {
        ProtocolErrorReason.FrameTooLarge => "frame_too_large",
        ProtocolErrorReason.ProtocolError => "protocol_error",
        ProtocolErrorReason.FrameTimeout => "frame_timeout",
        ProtocolErrorReason.IdleTimeout => "idle_timeout",
        _ => "write_timeout",
    };

    /// <summary>Samples the pool's gauges at scrape time instead of updating them per request.</summary>
    public void ObserveWorkerPool(Func<int> queueLength, Func<int> workersBusy) =>
        Registry.AddBeforeCollectCallback(() =>
        {
            _queueLength.Set(queueLength());
            _workersBusy.Set(workersBusy());
        });
}
