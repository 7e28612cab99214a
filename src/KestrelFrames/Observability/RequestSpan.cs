using System.Diagnostics;
using System.Net;

namespace KestrelFrames.Observability;

/// <summary>
/// A request's trace span, from the read that completed it to the answer's outcome: the one place that starts,
/// tags, makes current and stops it. A root span per request. Costs nothing when no listener samples it.
/// </summary>
internal struct RequestSpan
{
    private Activity? _activity;

    /// <summary>True when a span would be recorded: check it before gathering <see cref="Start"/>'s arguments.</summary>
    public static bool IsEnabled => FrameActivitySource.Source.HasListeners();

    /// <summary>
    /// Read loop: starts the span (when <see cref="IsEnabled"/>). <paramref name="client"/> is the client as the
    /// server knows it (from a PROXY header, if one came), <paramref name="peer"/> the socket's other end.
    /// </summary>
    public void Start(string connectionId, EndPoint? client, EndPoint? peer, EndPoint? local, int requestSize)
    {
        // StartActivity would make the span Activity.Current for the rest of the read loop, parenting every later
        // request of the connection under this one: each request is a root span, and the loop's current is restored.
        Activity? previous = Activity.Current;
        Activity.Current = null;
        _activity = FrameActivitySource.Source.StartActivity(FrameActivitySource.RequestActivityName, ActivityKind.Server, parentContext: default);
        Activity.Current = previous;
        if (_activity is { IsAllDataRequested: true } activity)
        {
            // The OpenTelemetry RPC and network conventions (docs/operations.md, "Traces", says which apply).
            activity.SetTag("rpc.system.name", "kestrelframes");
            activity.SetTag("network.transport", "tcp");
            activity.SetTag("kestrelframes.connection.id", connectionId);
            activity.SetTag("kestrelframes.request.size", requestSize);
            SetAddress(activity, "client.address", "client.port", client);
            SetAddress(activity, "network.peer.address", "network.peer.port", peer);
            if (local is IPEndPoint server)
            {
                activity.SetTag("server.port", server.Port);
            }
        }
    }

    /// <summary>
    /// Worker: the request left the queue (the span records how long it waited) and its handler is about to run.
    /// Makes the span current, so the handler's own spans are its children; returns what to restore after.
    /// </summary>
    public readonly Activity? Enter(TimeProvider time, long receivedTimestamp)
    {
        Activity? previous = Activity.Current;
        if (_activity is { } activity)
        {
            // Seconds, as the conventions want durations; the unit is not in the name.
            activity.SetTag("kestrelframes.request.queue_time", time.GetElapsedTime(receivedTimestamp).TotalSeconds);
            Activity.Current = activity;
        }

        return previous;
    }

    /// <summary>Worker: the handler returned; restores what <see cref="Enter"/> replaced.</summary>
    public static void Exit(Activity? previous) => Activity.Current = previous;

    /// <summary>
    /// Records the outcome (null: the handler's answer stands; Busy with <paramref name="rateLimited"/>: the client was
    /// over its rate) and ends the span.
    /// </summary>
    public void Stop(FrameStatus? status, bool rateLimited)
    {
        if (_activity is not { } activity)
        {
            return;
        }

        string outcome = status switch
        {
            null => "ok",
            FrameStatus.Busy when rateLimited => "rate_limited",
            FrameStatus.Busy => "busy",
            _ => "handler_error",
        };
        activity.SetTag("kestrelframes.outcome", outcome);
        if (status is not null)
        {
            // error.type on every failure; only a handler's failure is the server's error (Busy is load shedding or
            // the client's own rate).
            activity.SetTag("error.type", outcome);
        }

        if (status == FrameStatus.HandlerError)
        {
            activity.SetStatus(ActivityStatusCode.Error, "handler failed");
        }

        activity.Stop();
        _activity = null;
    }

    private static void SetAddress(Activity activity, string addressTag, string portTag, EndPoint? endPoint)
    {
        if (endPoint is IPEndPoint ip)
        {
            activity.SetTag(addressTag, ip.Address.ToString());
            activity.SetTag(portTag, ip.Port);
        }
    }
}
