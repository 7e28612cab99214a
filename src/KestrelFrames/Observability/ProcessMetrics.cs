using Prometheus;

namespace KestrelFrames.Observability;

/// <summary>
/// Kestrel's meters (<c>kestrel.*</c>) and the runtime's (GC, thread pool), in prometheus-net's default registry
/// with its usual naming. That registry, and its meter adapter, are process-wide: configure them once.
/// </summary>
internal static class ProcessMetrics
{
    private static readonly Lazy<Task> s_started = new(StartAsync);

    public static CollectorRegistry Registry => Metrics.DefaultRegistry;

    public static Task EnsureStartedAsync() => s_started.Value;

    private static async Task StartAsync()
    {
        // Our own meter is already exported under its exact frames_* names: taking it again would duplicate it.
        // EventCounters repeat what the System.Runtime meter reports, at a cost in garbage: off. The runtime's
        // "*.count" gauges are left out because the adapter would export them as gauges named *_count, which
        // Prometheus reserves for histograms (promtool check metrics fails on them).
        // prometheus-net's process_* collector counts open handles by listing /proc/self/fd on every scrape, which
        // took ~80 ms with 10,000 connections open: ours (ProcessCollector) exports the same names cheaply.
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressEventCounters = true, SuppressProcessMetrics = true });
        Metrics.ConfigureMeterAdapter(options => options.InstrumentFilterPredicate = instrument =>
            instrument.Meter.Name == "Microsoft.AspNetCore.Server.Kestrel"
            || (instrument.Meter.Name == "System.Runtime" && !instrument.Name.EndsWith(".count", StringComparison.Ordinal)));

        ProcessCollector.Register(Registry);

        // The adapter starts listening at the registry's first collection; collect once now so that nothing
        // measured before the first scrape is lost.
        await Registry.CollectAndExportAsTextAsync(Stream.Null);
    }
}
