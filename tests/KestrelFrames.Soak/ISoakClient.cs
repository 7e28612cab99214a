namespace KestrelFrames.Soak;

/// <summary>One kind of client: each attempt is one connection, from connect to close or reset.</summary>
internal interface ISoakClient
{
    /// <summary>The name the summary counts it under.</summary>
    string Kind { get; }

    /// <summary>A well-behaved client: anything but the promised answers fails the run.</summary>
    bool IsGood { get; }

    /// <param name="target">The server to connect to.</param>
    /// <param name="attempt">This worker's attempt number, which picks the variant (close style, header value).</param>
    /// <param name="cancellationToken">The attempt's hard limit; the kinds keep tighter deadlines of their own.</param>
    Task<Outcome> RunOnceAsync(SoakTarget target, int attempt, CancellationToken cancellationToken);
}
