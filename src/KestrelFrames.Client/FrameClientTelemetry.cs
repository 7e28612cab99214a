namespace KestrelFrames.Client;

/// <summary>
/// The client's <see cref="System.Diagnostics.ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>,
/// both named <see cref="Name"/>: pass it to OpenTelemetry's <c>AddSource</c> and <c>AddMeter</c>. Nothing is
/// measured and no span is created while nobody listens.
/// </summary>
/// <remarks>
/// Instruments: <c>frames.client.request.duration</c> (s, histogram), <c>frames.client.requests</c> (by
/// <c>outcome</c>: ok, busy, handler_error, error), <c>frames.client.reconnects</c> and
/// <c>frames.client.resends</c>, each tagged with <c>server.address</c> and <c>server.port</c>. Each request is a
/// Client span <c>frames.request</c> with those tags, <c>rpc.system.name</c> and <c>error.type</c> on failure.
/// </remarks>
public static class FrameClientTelemetry
{
    /// <summary>The name of both the activity source and the meter.</summary>
    public const string Name = "KestrelFrames.Client";
}
