namespace KestrelFrames.Bench;

/// <summary>What to run; the command line's options (see <see cref="BenchCli"/>) plus what only code sets.</summary>
internal sealed record BenchOptions
{
    public const int DefaultMaxFrame = 16 * 1024 * 1024;

    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = 9000;

    public int Connections { get; init; } = 64;

    /// <summary>Closed loop: requests in flight per connection. Open loop: at least this many may be in flight.</summary>
    public int Depth { get; init; } = 1;

    /// <summary>Request payload bytes (0 sends heartbeats).</summary>
    public int Size { get; init; } = 64;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Open loop: total requests per second over all connections; null runs the closed loop.</summary>
    public double? Rate { get; init; }

    public bool Tls { get; init; }

    /// <summary>Accept any server certificate (self-signed test certificates).</summary>
    public bool TlsInsecure { get; init; }

    public bool Verify { get; init; }

    /// <summary>Largest answer accepted; a longer length header is a protocol error.</summary>
    public int MaxFrame { get; init; } = DefaultMaxFrame;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>After the measured window, how long to wait for the server to answer and close.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Where the live progress line goes once a second; null prints none.</summary>
    public TextWriter? Progress { get; init; }

    /// <summary>Whether <see cref="Progress"/> is a terminal: then the line is rewritten in place.</summary>
    public bool ProgressIsTerminal { get; init; }

    /// <summary>The first problem with these options, or null.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            return "--host must not be empty";
        }

        if (Port is < 1 or > 65535)
        {
            return "--port must be between 1 and 65535";
        }

        if (Connections < 1)
        {
            return "--connections must be at least 1";
        }

        if (Depth < 1)
        {
            return "--depth must be at least 1";
        }

        if (MaxFrame < 1)
        {
            return "--max-frame must be at least 1";
        }

        if (Size < 0 || Size > MaxFrame)
        {
            return $"--size must be between 0 and --max-frame ({MaxFrame})";
        }

        if (Duration <= TimeSpan.Zero)
        {
            return "--duration must be positive";
        }

        if (Warmup < TimeSpan.Zero)
        {
            return "--warmup must not be negative";
        }

        if (Rate is { } rate && !(rate > 0 && double.IsFinite(rate)))
        {
            return "--rate must be a positive number of requests per second";
        }

        return ConnectTimeout <= TimeSpan.Zero ? "the connect timeout must be positive" : null;
    }
}
