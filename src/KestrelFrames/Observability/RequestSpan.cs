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

    /// <summary>Read loop: starts the span (when <see cref="IsEnabled"/>).</summary>
    public void Start(string connectionId, EndPoint? remoteEndPoint, int requestSize)
    {
        // StartActivity would make the span Activity.Current for the rest of the read loop, parenting every later
        // request of the connection under this one: each request is a root span, and the loop's current is restored.
        Activity? previous = Activity.Current;
        Activity.Current = null;
        _activity = FrameActivitySource.Source.StartActivity(FrameActivitySource.RequestActivityName, ActivityKind.Server, parentContext: default);
        Activity.Current = previous;
        if (_activity is { IsAllDataRequested: true } activity)
        {
            activity.SetTag("kestrelframes.connection.id", connectionId);
            activity.SetTag("kestrelframes.request.size", requestSize);
            activity.SetTag("network.transport", "tcp");
            if (remoteEndPoint is IPEndPoint peer)
            {
                activity.SetTag("network.peer.address", peer.Address.ToString());
                activity.SetTag("network.peer.port", peer.Port);
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
            activity.SetTag("kestrelframes.queue_time_us", (long)time.GetElapsedTime(receivedTimestamp).TotalMicroseconds);
            Activity.Current = activity;
        }

        return previous;
    }

    /// <summary>Worker: the handler returned; restores what <see cref="Enter"/> replaced.</summary>
    public static void Exit(Activity? previous) => Activity.Current = previous;

    /// <summary>Records the outcome (null: the handler's answer stands) and ends the span.</summary>
    public void Stop(FrameStatus? status)
    {
        if (_activity is not { } activity)
        {
            return;
        }

        activity.SetTag("kestrelframes.outcome", status switch { null => "ok", FrameStatus.Busy => "busy", _ => "handler_error" });
        if (status == FrameStatus.HandlerError)
        {
            activity.SetStatus(ActivityStatusCode.Error, "handler failed");
        }

        activity.Stop();
        _activity = null;
    }
}
