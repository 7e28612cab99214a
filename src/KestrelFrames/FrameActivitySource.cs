using System.Diagnostics;

namespace KestrelFrames;

/// <summary>
/// The <c>KestrelFrames</c> activity source: one span per request, from the moment it is read to its handler's
/// end, so it covers both queueing and handling. Nothing is created unless a listener (OpenTelemetry) asks for it.
/// </summary>
public static class FrameActivitySource
{
    /// <summary>The name to pass to OpenTelemetry's <c>AddSource</c>.</summary>
    public const string Name = "KestrelFrames";

    /// <summary>The span name of a request.</summary>
    public const string RequestActivityName = "frames.request";

    internal static ActivitySource Source { get; } = new(Name);
}
