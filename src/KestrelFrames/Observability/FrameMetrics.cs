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

    private static readonly string[] s_proxyRejectionLabels =
        [.. Enum.GetNames<ProxyRejection>().Select(name => name.ToLowerInvariant())];

    private static readonly string[] s_outcomeLabels = ["ok", "busy", "handler_error", "rate_limited"];

    // In the order of ConnectionRejection.
    private static readonly string[] s_rejectionLabels = ["connection_limit", "per_ip_limit", "connection_rate"];

    private readonly Gauge _activeConnections;
    private readonly Counter _connections;
    private readonly Counter.Child _requestsOk;
    private readonly Counter.Child _requestsBusy;
    private readonly Counter.Child _requestsHandlerError;
    private readonly Counter.Child _requestsRateLimited;
    private readonly Histogram _requestDuration;
    private readonly Counter.Child[] _rejected;
    private readonly Counter _probes;
    private readonly Counter.Child[] _protocolErrors;
    private readonly Counter.Child[] _proxyRejections;
    private readonly Counter _receivedBytes;
    private readonly Counter _sentBytes;
    private readonly Histogram<double> _durationInstrument;

    public FrameMetrics(IMeterFactory meterFactory)
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _activeConnections = factory.CreateGauge("frames_active_connections", "Frame connections open now.");
        _connections = factory.CreateCounter("frames_connections_total", "Frame connections accepted.");
        Counter requests = Labelled(factory, "frames_requests_total", "Requests answered, by outcome (ok, busy, handler_error, rate_limited).", "outcome");
        _requestsOk = requests.WithLabels(s_outcomeLabels[0]);
        _requestsBusy = requests.WithLabels(s_outcomeLabels[1]);
        _requestsHandlerError = requests.WithLabels(s_outcomeLabels[2]);
        _requestsRateLimited = requests.WithLabels(s_outcomeLabels[3]);
        _requestDuration = factory.CreateHistogram(
            "frames_request_duration_seconds",
            "Time from a request fully read to its answer handed to the transport.",
            new HistogramConfiguration { Buckets = s_durationBuckets });
        Counter rejected = Labelled(factory, "frames_connections_rejected_total", "Frame connections refused at accept, by reason (connection_limit, per_ip_limit, connection_rate).", "reason");
        _rejected = [.. s_rejectionLabels.Select(label => rejected.WithLabels(label))];
        _probes = factory.CreateCounter("frames_connections_probe_total", "Frame connections closed before sending a byte (load balancer TCP probes).");
        Counter protocolErrors = Labelled(factory, "frames_protocol_errors_total", "Connections closed for a client's fault, by reason.", "reason");
        _protocolErrors = [.. s_protocolErrorLabels.Select(label => protocolErrors.WithLabels(label))];
        Counter proxyRejections = Labelled(factory, "frames_proxy_protocol_rejected_total", "Connections closed by the PROXY protocol reader, by reason (untrusted, missing, malformed, timeout).", "reason");
        _proxyRejections = [.. s_proxyRejectionLabels.Select(label => proxyRejections.WithLabels(label))];
        _receivedBytes = factory.CreateCounter("frames_received_bytes_total", "Bytes of frames received, headers included.");
        _sentBytes = factory.CreateCounter("frames_sent_bytes_total", "Bytes of frames sent, headers included.");
        TransportInfo = factory.CreateGauge("frames_transport_info", "The transport under the Frames endpoint (epoll or sockets): 1 for the one running.", "transport");

        // Every frames_* series has its instrument here with the same meaning, read at collection time from the
        // same counters (the server-wide gauges are added by FrameGauges, which reads them from their live source).
        // Units follow the OpenTelemetry conventions: annotations in braces for counts, UCUM for the rest.
        Meter = meterFactory.Create(MeterName);
        Meter.CreateObservableUpDownCounter("frames.active_connections", () => (long)_activeConnections.Value, "{connection}", "Frame connections open now.");
        Meter.CreateObservableCounter("frames.connections", () => (long)_connections.Value, "{connection}", "Frame connections accepted.");
        Meter.CreateObservableCounter("frames.connections.probes", () => (long)_probes.Value, "{connection}", "Frame connections closed before sending a byte (load balancer TCP probes).");
        Meter.CreateObservableCounter("frames.connections.rejected", () => Observe("reason", s_rejectionLabels, _rejected), "{connection}", "Frame connections refused at accept, by reason.");
        Meter.CreateObservableCounter("frames.protocol_errors", () => Observe("reason", s_protocolErrorLabels, _protocolErrors), "{connection}", "Connections closed for a client's fault, by reason.");
        Meter.CreateObservableCounter("frames.proxy_protocol.rejected", () => Observe("reason", s_proxyRejectionLabels, _proxyRejections), "{connection}", "Connections closed by the PROXY protocol reader, by reason.");
        Meter.CreateObservableCounter("frames.requests", () => Observe("outcome", s_outcomeLabels, [_requestsOk, _requestsBusy, _requestsHandlerError, _requestsRateLimited]), "{request}", "Requests answered, by outcome.");
        Meter.CreateObservableCounter("frames.received_bytes", () => (long)_receivedBytes.Value, "By", "Bytes of frames received, headers included.");
        Meter.CreateObservableCounter("frames.sent_bytes", () => (long)_sentBytes.Value, "By", "Bytes of frames sent, headers included.");

        // Without advice the SDK's default bounds (0, 5, 10 ... 10000) are meant for milliseconds: every request
        // would land in the first bucket. The same bounds as /metrics, so the two backends agree.
        _durationInstrument = Meter.CreateHistogram(
            "frames.request.duration",
            "s",
            "Time from a request fully read to its answer handed to the transport.",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
    }

    /// <summary>The <c>KestrelFrames</c> meter, for instruments whose source is another component.</summary>
    public Meter Meter { get; }

    public CollectorRegistry Registry { get; }

    /// <summary>Requests answered since start, whatever the outcome.</summary>
    public long RequestsAnswered => (long)(_requestsOk.Value + _requestsBusy.Value + _requestsHandlerError.Value + _requestsRateLimited.Value);

    /// <summary>1, labelled with the transport that runs the Frames endpoint.</summary>
    public Gauge TransportInfo { get; }

    public void ConnectionOpened()
    {
        _connections.Inc();
        _activeConnections.Inc();
    }

    public void ConnectionClosed() => _activeConnections.Dec();

    public void ConnectionRejected(ConnectionRejection reason) => _rejected[(int)reason].Inc();

    public void ProbeConnection() => _probes.Inc();

    public void ProtocolError(ProtocolErrorReason reason) => _protocolErrors[(int)reason].Inc();

    public void ProxyRejected(ProxyRejection reason) => _proxyRejections[(int)reason].Inc();

    public void BytesReceived(long bytes) => _receivedBytes.Inc(bytes);

    public void BytesSent(long bytes) => _sentBytes.Inc(bytes);

    /// <summary>A request's answer was written: <paramref name="outcome"/> null for the handler's answer, else its status.</summary>
    public void RequestAnswered(FrameStatus? outcome, bool rateLimited, TimeSpan duration)
    {
        Counter.Child counter = outcome switch
        {
            null => _requestsOk,
            FrameStatus.Busy when rateLimited => _requestsRateLimited,
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

    public void Dispose()
    {
        Meter.Dispose();
    }

    private static Measurement<long>[] Observe(string label, string[] values, Counter.Child[] counters)
    {
        var measurements = new Measurement<long>[counters.Length];
        for (int i = 0; i < counters.Length; i++)
        {
            measurements[i] = new((long)counters[i].Value, new KeyValuePair<string, object?>(label, values[i]));
        }

        return measurements;
    }

    private static Counter Labelled(MetricFactory factory, string name, string help, string label) =>
        factory.CreateCounter(name, help, new CounterConfiguration { LabelNames = [label] });
}
