using System.Diagnostics.Metrics;
using KestrelFrames.Protocol;
using Prometheus;

namespace KestrelFrames.Observability;

/// <summary>
/// The frames_* series. Each server gets a registry of its own, so two servers in one process (tests) never mix
/// counts. Labelled children are resolved once: counting on the hot path is a lock-free add, with no lookup and no
/// allocation. The same numbers reach System.Diagnostics.Metrics (meter <c>KestrelFrames</c>, for OpenTelemetry
/// and dotnet-counters) through observable instruments read at collection time, so a second exporter costs the
/// hot path nothing. Kestrel's and the runtime's meters are in <see cref="ProcessMetrics"/>.
/// </summary>
internal sealed class FrameMetrics : IDisposable
{
    public const string MeterName = "KestrelFrames";

    private static readonly double[] s_durationBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly string[] s_protocolErrorLabels =
        ["frame_too_large", "protocol_error", "frame_timeout", "idle_timeout", "write_timeout"];

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
    private readonly Counter.Child[] _proxyRejections;
    private readonly Counter _receivedBytes;
    private readonly Counter _sentBytes;
    private readonly Meter _meter;
    private readonly Histogram<double> _durationInstrument;

    public FrameMetrics(IMeterFactory meterFactory)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _activeConnections = factory.CreateGauge("frames_active_connections", "Frame connections open now.");
        _connections = factory.CreateCounter("frames_connections_total", "Frame connections accepted.");
        Counter requests = Labelled(factory, "frames_requests_total", "Requests answered, by outcome (ok, busy, handler_error).", "outcome");
        _requestsOk = requests.WithLabels("ok");
        _requestsBusy = requests.WithLabels("busy");
        _requestsHandlerError = requests.WithLabels("handler_error");
        _requestDuration = factory.CreateHistogram(
            "frames_request_duration_seconds",
            "Time from a request fully read to its answer handed to the transport.",
            new HistogramConfiguration { Buckets = s_durationBuckets });
        Counter rejected = Labelled(factory, "frames_connections_rejected_total", "Frame connections refused at accept, by reason (connection_limit, per_ip_limit).", "reason");
        _rejectedConnectionLimit = rejected.WithLabels("connection_limit");
        _rejectedPerIpLimit = rejected.WithLabels("per_ip_limit");
        _probes = factory.CreateCounter("frames_connections_probe_total", "Frame connections closed before sending a byte (load balancer TCP probes).");
        Counter protocolErrors = Labelled(factory, "frames_protocol_errors_total", "Connections closed for a client's fault, by reason.", "reason");
        _protocolErrors = [.. s_protocolErrorLabels.Select(label => protocolErrors.WithLabels(label))];
        Counter proxyRejections = Labelled(factory, "frames_proxy_protocol_rejected_total", "Connections closed by the PROXY protocol reader, by reason (untrusted, missing, malformed, timeout).", "reason");
        _proxyRejections = [.. Enum.GetNames<ProxyRejection>().Select(name => proxyRejections.WithLabels(name.ToLowerInvariant()))];
        _receivedBytes = factory.CreateCounter("frames_received_bytes_total", "Bytes of frames received, headers included.");
        _sentBytes = factory.CreateCounter("frames_sent_bytes_total", "Bytes of frames sent, headers included.");
        QueueLength = factory.CreateGauge("frames_worker_queue_length", "Work items (the requests of one read of one connection) waiting in the worker pool's queue.");
        WorkersBusy = factory.CreateGauge("frames_workers_busy", "Workers running requests now.");
        InFlightRequests = factory.CreateGauge("frames_inflight_requests", "Requests read and not yet answered, across connections.");
        Draining = factory.CreateGauge("frames_draining", "1 while the server is shutting down, else 0.");
        TransportInfo = factory.CreateGauge("frames_transport_info", "The transport under the Frames endpoint (epoll or sockets): 1 for the one running.", "transport");
        MemoryPoolBytes = factory.CreateGauge("frames_memory_pool_bytes", "Transport blocks (Frames:TransportBlockSize) in use by connections (rented) and kept idle for reuse (pooled), in bytes.", "state");

        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableUpDownCounter("frames.active_connections", () => (long)_activeConnections.Value, description: "Frame connections open now.");
        _meter.CreateObservableCounter("frames.connections", () => (long)_connections.Value, description: "Frame connections accepted.");
        _meter.CreateObservableCounter("frames.requests", ObserveRequests, description: "Requests answered, by outcome.");
        _meter.CreateObservableCounter("frames.received_bytes", () => (long)_receivedBytes.Value, "By");
        _meter.CreateObservableCounter("frames.sent_bytes", () => (long)_sentBytes.Value, "By");
        _meter.CreateObservableUpDownCounter("frames.worker_queue_length", () => (long)QueueLength.Value);
        _durationInstrument = _meter.CreateHistogram<double>("frames.request.duration", "s", "Time from a request fully read to its answer handed to the transport.");
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Requests answered since start, whatever the outcome.</summary>
    public long RequestsAnswered => (long)(_requestsOk.Value + _requestsBusy.Value + _requestsHandlerError.Value);

    public Gauge QueueLength { get; }

    public Gauge WorkersBusy { get; }

    public Gauge InFlightRequests { get; }

    public Gauge Draining { get; }

    /// <summary>1, labelled with the transport that runs the Frames endpoint.</summary>
    public Gauge TransportInfo { get; }

    /// <summary>Transport pool bytes by state, <c>rented</c> or <c>pooled</c>.</summary>
    public Gauge MemoryPoolBytes { get; }

    public void ConnectionOpened()
    {
        _connections.Inc();
        _activeConnections.Inc();
    }

    public void ConnectionClosed() => _activeConnections.Dec();

    public void ConnectionRejected(bool perIp) => (perIp ? _rejectedPerIpLimit : _rejectedConnectionLimit).Inc();

    public void ProbeConnection() => _probes.Inc();

    public void ProtocolError(ProtocolErrorReason reason) => _protocolErrors[(int)reason].Inc();

    public void ProxyRejected(ProxyRejection reason) => _proxyRejections[(int)reason].Inc();

    public void BytesReceived(long bytes) => _receivedBytes.Inc(bytes);

    public void BytesSent(long bytes) => _sentBytes.Inc(bytes);

    public void RequestAnswered(FrameStatus? outcome, TimeSpan duration)
    {
        Counter.Child counter = outcome switch
        {
            null => _requestsOk,
            FrameStatus.Busy => _requestsBusy,
            _ => _requestsHandlerError,
        };
        counter.Inc();
        double seconds = duration.TotalSeconds;
        _requestDuration.Observe(seconds);
        if (_durationInstrument.Enabled)
        {
            _durationInstrument.Record(seconds);
        }
    }

    /// <summary>Runs <paramref name="sample"/> before each scrape: gauges that are cheap to compute then, and costly to keep exact per request.</summary>
    public void SampleBeforeScrape(Action sample) => Registry.AddBeforeCollectCallback(sample);

    public void Dispose()
    {
        _meter.Dispose();
    }

    private Measurement<long>[] ObserveRequests() =>
    [
        new((long)_requestsOk.Value, new KeyValuePair<string, object?>("outcome", "ok")),
        new((long)_requestsBusy.Value, new KeyValuePair<string, object?>("outcome", "busy")),
        new((long)_requestsHandlerError.Value, new KeyValuePair<string, object?>("outcome", "handler_error")),
    ];

    private static Counter Labelled(MetricFactory factory, string name, string help, string label) =>
        factory.CreateCounter(name, help, new CounterConfiguration { LabelNames = [label] });
}
