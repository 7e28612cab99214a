using System.Diagnostics.Metrics;
using System.Reflection;
using KestrelFrames.Connections;
using KestrelFrames.Observability;
using KestrelFrames.Primitives;
using KestrelFrames.Processing;
using KestrelFrames.Transport;
using Microsoft.Extensions.Hosting;
using Prometheus;

namespace KestrelFrames.Hosting;

/// <summary>
/// The series that describe the whole server rather than count events: its state (queue, busy workers, requests in
/// flight, draining, transport pool), read from the components that know it when a backend collects, instead of
/// updating shared counters per request; its configured limits; and its build. For /metrics and the
/// <c>KestrelFrames</c> meter alike, from the same live source: an OTLP-only deployment sees current values too.
/// Registered at start, so the meter reports them whether or not /metrics is mapped.
/// </summary>
internal sealed class FrameGauges(
    FrameMetrics metrics,
    WorkerPool pool,
    ConnectionManager connections,
    FrameServerState state,
    BlockMemoryPoolFactory transportPool,
    EpollTransportFactory epoll,
    ClientRateLimiter rateLimiter,
    LiveFrameOptions options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = Metrics.WithCustomRegistry(metrics.Registry);
        Gauge queueLength = factory.CreateGauge("frames_worker_queue_length", "Work items (the requests of one read of one connection) waiting in the worker pool's queue.");
        Gauge workersBusy = factory.CreateGauge("frames_workers_busy", "Workers running requests now.");
        Gauge inFlight = factory.CreateGauge("frames_inflight_requests", "Requests read and not yet answered, across connections.");
        Gauge draining = factory.CreateGauge("frames_draining", "1 while the server is shutting down, else 0.");
        Gauge poolBytes = factory.CreateGauge("frames_memory_pool_bytes", "Transport blocks (Frames:TransportBlockSize) in use by connections (rented) and kept idle for reuse (pooled), in bytes.", "state");
        Gauge.Child rented = poolBytes.WithLabels("rented");
        Gauge.Child pooled = poolBytes.WithLabels("pooled");
        Gauge partitions = factory.CreateGauge("frames_rate_limit_partitions", "Client addresses with rate-limit state (Frames:RateLimit); idle ones are dropped once their buckets are full again.");
        metrics.Registry.AddBeforeCollectCallback(() =>
        {
            rented.Set(transportPool.RentedBytes);
            pooled.Set(transportPool.PooledBytes);
            queueLength.Set(pool.QueueLength);
            workersBusy.Set(pool.BusyWorkers);
            inFlight.Set(connections.CountUnansweredRequests());
            draining.Set(state.IsStopping ? 1 : 0);
            partitions.Set(rateLimiter.PartitionCount);
        });

        Meter meter = metrics.Meter;
        meter.CreateObservableUpDownCounter("frames.worker_queue_length", () => pool.QueueLength, "{work_item}", "Work items waiting in the worker pool's queue.");
        meter.CreateObservableUpDownCounter("frames.workers_busy", () => pool.BusyWorkers, "{worker}", "Workers running requests now.");
        meter.CreateObservableUpDownCounter("frames.inflight_requests", connections.CountUnansweredRequests, "{request}", "Requests read and not yet answered, across connections.");
        meter.CreateObservableUpDownCounter("frames.draining", () => state.IsStopping ? 1 : 0, "1", "1 while the server is shutting down, else 0.");
        meter.CreateObservableUpDownCounter("frames.memory_pool.size", () => (Measurement<long>[])
        [
            new(transportPool.RentedBytes, new KeyValuePair<string, object?>("state", "rented")),
            new(transportPool.PooledBytes, new KeyValuePair<string, object?>("state", "pooled")),
        ], "By", "Transport blocks in use by connections (rented) and kept idle for reuse (pooled).");
        meter.CreateObservableUpDownCounter("frames.transport.info", () => new Measurement<int>(1,
            new KeyValuePair<string, object?>("transport", epoll.LoopCount > 0 ? "epoll" : "sockets")), "1", "1, tagged with the transport that runs the Frames endpoint.");
        meter.CreateObservableUpDownCounter("frames.rate_limit.partitions", () => rateLimiter.PartitionCount, "{partition}", "Client addresses with rate-limit state; idle ones are dropped.");

        AddLimits(factory, metrics.Registry, meter, options);
        AddBuildInfo(factory, meter);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // Alerts and dashboards compare usage with these instead of hard-coding the defaults. Read at each collection:
    // a configuration reload changes some of them (Workers and QueueCapacity only at a restart).
    private static void AddLimits(MetricFactory factory, CollectorRegistry registry, Meter meter, LiveFrameOptions options)
    {
        Limit("frames_max_connections", "frames.limit.max_connections", "{connection}", "Frames:MaxConnections, the open connections the server accepts.", () => options.Current.MaxConnections);
        Limit("frames_workers", "frames.limit.workers", "{worker}", "Frames:Workers, the worker pool's size.", () => options.Current.Workers);
        Limit("frames_worker_queue_capacity", "frames.limit.worker_queue_capacity", "{work_item}", "Frames:QueueCapacity, the worker queue's capacity.", () => options.Current.QueueCapacity);
        Limit("frames_max_buffered_bytes", "frames.limit.max_buffered_bytes", "By", "Frames:MaxBufferedBytes, the request and answer bytes the server holds at most.", () => options.Current.MaxBufferedBytes);
        // What the runtime may use: the container's memory limit, or the machine's memory without one.
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        Limit("frames_memory_limit_bytes", "frames.limit.memory", "By", "The memory the process may use: the container's limit, else the machine's memory.", () => memory);
        Limit("frames_max_inflight_per_connection", "frames.limit.max_inflight_per_connection", "{request}", "Frames:MaxInFlightPerConnection, the unanswered requests one connection may have.", () => options.Current.MaxInFlightPerConnection);

        void Limit(string name, string instrument, string unit, string help, Func<long> value)
        {
            Gauge gauge = factory.CreateGauge(name, help);
            gauge.Set(value());
            registry.AddBeforeCollectCallback(() => gauge.Set(value()));
            meter.CreateObservableUpDownCounter(instrument, value, unit, help);
        }
    }

    private static void AddBuildInfo(MetricFactory factory, Meter meter)
    {
        (string version, string commit) = BuildVersion();
        string runtime = Environment.Version.ToString();
        factory.CreateGauge("frames_build_info", "1, labelled with the server's version, the commit it was built from and the .NET runtime.", ["version", "commit", "runtime"])
            .WithLabels(version, commit, runtime).Set(1);
        meter.CreateObservableUpDownCounter("frames.build.info", () => new Measurement<int>(1,
            new KeyValuePair<string, object?>("version", version),
            new KeyValuePair<string, object?>("commit", commit),
            new KeyValuePair<string, object?>("runtime", runtime)), "1", "1, labelled with the server's version, commit and runtime.");
    }

    /// <summary>The assembly's informational version, "1.2.3+commit" when SourceLink stamped it.</summary>
    internal static (string Version, string Commit) BuildVersion()
    {
        string informational = typeof(FrameGauges).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        int plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? (informational, "unknown") : (informational[..plus], informational[(plus + 1)..]);
    }
}
