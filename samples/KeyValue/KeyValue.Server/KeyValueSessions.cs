using System.Collections.Concurrent;

namespace KeyValue.Server;

/// <summary>The sessions of the open connections, for the logs and the tests; each connection keeps its own in Items.</summary>
public sealed class KeyValueSessions
{
    private readonly ConcurrentDictionary<KeyValueSession, byte> _open = new();

    /// <summary>Raised once a connection has ended, with its session (for logs or statistics).</summary>
    public event EventHandler<KeyValueSession>? SessionEnded;

    /// <summary>Sessions open now.</summary>
    public int Count => _open.Count;

    /// <summary>Opens the session of a connection that is ready for its first request.</summary>
    public KeyValueSession Start(string connectionId)
    {
        var session = new KeyValueSession(connectionId);
        _open.TryAdd(session, 0);
        return session;
    }

    /// <summary>Ends a session once its connection is over: no request of it runs any more.</summary>
    public void End(KeyValueSession session)
    {
        if (_open.TryRemove(session, out _))
        {
            SessionEnded?.Invoke(this, session);
        }
    }
}
