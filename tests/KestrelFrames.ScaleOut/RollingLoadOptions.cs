namespace KestrelFrames.ScaleOut;

/// <summary>What the load client connects to and how hard it pushes.</summary>
internal sealed class RollingLoadOptions
{
    public required string Host { get; init; }

    public required int Port { get; init; }

    public int Connections { get; init; } = 32;

    /// <summary>Requests each connection keeps in flight (pipelined).</summary>
    public int Depth { get; init; } = 8;
}
