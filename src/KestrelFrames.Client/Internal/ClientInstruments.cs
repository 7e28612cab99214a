using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace KestrelFrames.Client.Internal;

/// <summary>
/// The client's spans and instruments. Process-wide statics, as in HttpClient and the database drivers: a client has
/// no service provider to get a meter factory from. Every entry point checks for a listener first, so a client that
/// nobody observes pays one branch per request.
/// </summary>
internal static class ClientInstruments
{
    private static readonly double[] s_durationBuckets =
        [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static ActivitySource Source { get; } = new(FrameClientTelemetry.Name);

    private static readonly Meter s_meter = new(FrameClientTelemetry.Name);

    private static readonly Histogram<double> s_duration = s_meter.CreateHistogram(
        "frames.client.request.duration", "s", "Time from a request's call to its answer or failure.", tags: null,
        new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });

    private static readonly Counter<long> s_requests = s_meter.CreateCounter<long>("frames.client.requests", "{request}", "Requests completed, by outcome.");

    private static readonly Counter<long> s_reconnects = s_meter.CreateCounter<long>("frames.client.reconnects", "{connection}", "Connections re-established after one ended.");

    private static readonly Counter<long> s_resends = s_meter.CreateCounter<long>("frames.client.resends", "{request}", "Requests sent again on a new connection because the old one never answered them.");

    /// <summary>True when a request should be measured or traced: check it before taking the slow path.</summary>
    public static bool IsObserved => s_duration.Enabled || s_requests.Enabled || Source.HasListeners();

    public static Activity? StartRequest(string host, int port)
    {
        Activity? activity = Source.StartActivity("frames.request", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system.name", "kestrelframes");
            activity.SetTag("network.transport", "tcp");
            activity.SetTag("server.address", host);
            activity.SetTag("server.port", port);
        }

        return activity;
    }

    /// <summary>Ends a request's span and records it: <paramref name="errorType"/> null for an answer.</summary>
    public static void StopRequest(Activity? activity, string host, int port, long startTimestamp, string outcome, string? errorType)
    {
        var tags = new TagList { { "server.address", host }, { "server.port", port }, { "outcome", outcome } };
        if (errorType is not null)
        {
            tags.Add("error.type", errorType);
        }

        s_requests.Add(1, tags);
        s_duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tags);
        if (activity is not null)
        {
            if (errorType is not null)
            {
                activity.SetTag("error.type", errorType);
                activity.SetStatus(ActivityStatusCode.Error);
            }

            activity.Stop();
        }
    }

    public static void Reconnected(string host, int port, int resent)
    {
        var tags = new TagList { { "server.address", host }, { "server.port", port } };
        s_reconnects.Add(1, tags);
        if (resent > 0)
        {
            s_resends.Add(resent, tags);
        }
    }
}
