using System.Collections.Concurrent;

namespace KeyValue.Server;

/// <summary>The sessions of the open connections, by connection id.</summary>
/// <remarks>
/// KestrelFrames has no per-connection state of its own yet (no Items bag on <c>FrameContext</c>, no connection
/// open or close callback), so the sample keys sessions by <c>FrameContext.ConnectionId</c>, which Kestrel makes
/// unique per connection, and <see cref="SessionCleanupMiddleware"/> ends each one when its connection ends.
/// </remarks>
public sealed class KeyValueSessions
{
    private readonly ConcurrentDictionary<string, KeyValueSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>Raised once a connection has ended, with its session (for logs or statistics).</summary>
    public event EventHandler<KeyValueSession>? SessionEnded;

    /// <summary>Sessions open now.</summary>
    public int Count => _sessions.Count;

    /// <summary>The session of a connection, created by its first request.</summary>
    public KeyValueSession GetOrStart(string connectionId) =>
        _sessions.GetOrAdd(connectionId, static id => new KeyValueSession(id));

    /// <summary>Forgets a connection's session once the connection is gone; nothing happens if it never sent a request.</summary>
    public void End(string connectionId)
    {
        if (_sessions.TryRemove(connectionId, out KeyValueSession? session))
        {
            SessionEnded?.Invoke(this, session);
        }
    }
}
