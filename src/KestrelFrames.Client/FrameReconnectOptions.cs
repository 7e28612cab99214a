namespace KestrelFrames.Client;

/// <summary>
/// Opt-in recovery of a <see cref="FrameClient"/> (<see cref="FrameClientOptions.Reconnect"/>).
/// <list type="bullet">
/// <item>When the connection ends, the client connects again to the same host and port (DNS or a load balancer
/// may land it on another instance) and resends, in their original order, only the requests that got no answer.
/// Callers just keep awaiting: each <see cref="FrameClient.SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/> completes once, with its answer.</item>
/// <item>After <see cref="FrameStatus.ShuttingDown"/> (and the other closing statuses) the server has answered
/// every request it processed, so the resent ones run exactly once. After a dropped connection (no status), a request
/// that was sent and not answered may or may not have run: see <see cref="ResendAfterConnectionLoss"/>.</item>
/// <item><see cref="FrameResponseStatus.Busy"/> answers are retried with exponential backoff and jitter.
/// <see cref="FrameResponseStatus.HandlerError"/> is never retried.</item>
/// <item>A request whose caller cancelled is never resent.</item>
/// </list>
/// </summary>
public sealed class FrameReconnectOptions
{
    /// <summary>The longest delay the backoff accepts (Polly's limit).</summary>
    private static readonly TimeSpan s_maxDelay = TimeSpan.FromDays(1);

    /// <summary>Connection attempts per reconnect, the first at once, then with backoff. Default 10, at least 1.</summary>
    public int MaxReconnectAttempts { get; set; } = 10;

    /// <summary>The backoff before the second attempt; it doubles each time, with jitter. Default 100 ms.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest backoff between two attempts. Default 5 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Times a request answered <see cref="FrameResponseStatus.Busy"/> is sent again before the Busy answer is
    /// returned to the caller. 0 turns Busy retries off. Default 3.
    /// </summary>
    public int MaxBusyRetries { get; set; } = 3;

    /// <summary>The backoff before the first Busy retry; it doubles each time, with jitter. Default 50 ms.</summary>
    public TimeSpan BusyRetryDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The longest backoff between two Busy retries. Default 2 s.</summary>
    public TimeSpan MaxBusyRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether a request that was sent but not answered when the connection <i>dropped</i> (no closing status, such
    /// as after a network failure or the server's shutdown timeout) is resent. Default true: at-least-once, right for
    /// idempotent requests. Set false to fail such requests with a <see cref="FrameConnectionClosedException"/> whose
    /// <see cref="FrameConnectionClosedException.WasProcessed"/> is null; requests known not to have been processed
    /// are resent either way.
    /// </summary>
    public bool ResendAfterConnectionLoss { get; set; } = true;

    internal FrameReconnectOptions Snapshot()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReconnectAttempts, 1, nameof(MaxReconnectAttempts));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxBusyRetries, nameof(MaxBusyRetries));
        CheckDelays(ReconnectDelay, MaxReconnectDelay, nameof(ReconnectDelay), nameof(MaxReconnectDelay));
        CheckDelays(BusyRetryDelay, MaxBusyRetryDelay, nameof(BusyRetryDelay), nameof(MaxBusyRetryDelay));
        return (FrameReconnectOptions)MemberwiseClone();
    }

    private static void CheckDelays(TimeSpan delay, TimeSpan maxDelay, string delayName, string maxDelayName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero, delayName);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, delay, maxDelayName);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxDelay, s_maxDelay, maxDelayName);
    }
}
