namespace KestrelFrames.Connections;

/// <summary>
/// One connection's deadlines as plain timestamps: its loops stamp them (a field write, no timer per frame) and the
/// shared <see cref="FrameHeartbeat"/> checks them once a tick. Timestamps come from the injected TimeProvider.
/// </summary>
internal sealed class ConnectionTimeouts
{
    private readonly long _readTimeout;
    private readonly long _idleTimeout;
    private readonly long _writeTimeout;
    private readonly long _closeAt;
    private long _frameStartedAt;
    private long _lastActivityAt;
    private long _flushStartedAt;
    // Read loop only: when it last resumed after waiting on the server's own limits.
    private long _resumedAt;
    private volatile bool _readPaused;

    public ConnectionTimeouts(FrameServerOptions options, TimeProvider time, long now)
    {
        _readTimeout = ToTimestamp(options.ReadTimeout, time);
        _idleTimeout = ToTimestamp(options.IdleTimeout, time);
        _writeTimeout = ToTimestamp(options.WriteTimeout, time);
        _lastActivityAt = now;

        // Jitter spreads the reconnects of clients that connected together, e.g. right after a scale-out.
        long maxAge = ToTimestamp(options.MaxConnectionAge, time);
        _closeAt = maxAge == 0 ? long.MaxValue : now + maxAge + (long)(maxAge * 0.1 * Random.Shared.NextDouble());
    }

    /// <summary>Read loop, after parsing a batch: whether a partial frame is left, and whether it is a new one.</summary>
    public void AfterRead(long now, bool partialFrameLeft, bool parsedAny)
    {
        if (parsedAny)
        {
            Volatile.Write(ref _lastActivityAt, now);
        }

        if (!partialFrameLeft)
        {
            Volatile.Write(ref _frameStartedAt, 0);
        }
        else if (parsedAny || Volatile.Read(ref _frameStartedAt) == 0)
        {
            // A batch that waited on the server's limits after its read: the frame left over is timed from when the
            // server could read again, not from before the wait (the client was not slow).
            Volatile.Write(ref _frameStartedAt, Math.Max(now, _resumedAt));
        }
    }

    /// <summary>The read loop waits on the server's own limits: the client is not slow, so its read deadline stops.</summary>
    public void PauseRead() => _readPaused = true;

    /// <summary>The read loop reads again: a frame in progress gets a fresh read timeout.</summary>
    public void ResumeRead(long now)
    {
        _resumedAt = now;
        if (Volatile.Read(ref _frameStartedAt) != 0)
        {
            Volatile.Write(ref _frameStartedAt, now);
        }

        _readPaused = false;
    }

    public void FlushStarted(long now) => Volatile.Write(ref _flushStartedAt, now);

    public void FlushCompleted(long now)
    {
        Volatile.Write(ref _flushStartedAt, 0);
        Volatile.Write(ref _lastActivityAt, now);
    }

    /// <summary>Which deadline, if any, has passed at <paramref name="now"/>.</summary>
    public ConnectionTimeout Check(long now, bool nothingInFlight)
    {
        long flushStartedAt = Volatile.Read(ref _flushStartedAt);
        if (flushStartedAt != 0 && now - flushStartedAt >= _writeTimeout)
        {
            return ConnectionTimeout.Write;
        }

        if (!_readPaused)
        {
            long frameStartedAt = Volatile.Read(ref _frameStartedAt);
            if (frameStartedAt != 0 && now - frameStartedAt >= _readTimeout)
            {
                return ConnectionTimeout.Frame;
            }

            if (frameStartedAt == 0 && nothingInFlight && now - Volatile.Read(ref _lastActivityAt) >= _idleTimeout)
            {
                return ConnectionTimeout.Idle;
            }
        }

        return now >= _closeAt ? ConnectionTimeout.MaxAge : ConnectionTimeout.None;
    }

    private static long ToTimestamp(TimeSpan span, TimeProvider time) => (long)(span.TotalSeconds * time.TimestampFrequency);
}

/// <summary>A deadline that passed, and what the connection does about it.</summary>
internal enum ConnectionTimeout
{
    /// <summary>Nothing is late.</summary>
    None,

    /// <summary>A frame did not complete within ReadTimeout: <see cref="FrameStatus.FrameTimeout"/>, close.</summary>
    Frame,

    /// <summary>Nothing happened for IdleTimeout: <see cref="FrameStatus.IdleTimeout"/>, close.</summary>
    Idle,

    /// <summary>A flush did not complete within WriteTimeout: abort.</summary>
    Write,

    /// <summary>The connection outlived MaxConnectionAge: drain it like at shutdown.</summary>
    MaxAge,
}
