using KestrelFrames.Processing;

namespace KestrelFrames.Hosting;

/// <summary>Limits of the frame server, bound from the <c>Frames</c> configuration section and validated at start.</summary>
public sealed class FrameServerOptions
{
    /// <summary>The configuration section these options bind from.</summary>
    public const string SectionName = "Frames";

    /// <summary>Largest request payload in bytes; a larger header is answered FrameTooLarge. Default 1 MiB, at most 2^31-1.</summary>
    public int MaxFrameSize { get; set; } = 1024 * 1024;

    /// <summary>Requests handled at once across all connections. Default 64.</summary>
    public int Workers { get; set; } = 64;

    /// <summary>Requests that may wait for a worker. Default 1024.</summary>
    public int QueueCapacity { get; set; } = 1024;

    /// <summary>Answers one connection may have pending (in the pool or waiting to be written); beyond it the connection stops reading. Default 32.</summary>
    public int MaxInFlightPerConnection { get; set; } = 32;

    /// <summary>What happens to a request that finds the worker queue full. Default <see cref="OverloadMode.Backpressure"/>.</summary>
    public OverloadMode OverloadMode { get; set; } = OverloadMode.Backpressure;
}
