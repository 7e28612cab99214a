using System.Collections.Concurrent;

namespace KestrelFrames.Connections;

/// <summary>
/// The open frame connections (Kestrel's ConnectionManager): the heartbeat walks them, the gauges count their
/// unanswered requests, and the shutdown timeout aborts the ones left.
/// </summary>
internal sealed class ConnectionManager
{
    private readonly ConcurrentDictionary<FrameConnection, byte> _connections = new();
    private TaskCompletionSource? _emptied;

    public void Register(FrameConnection connection) => _connections.TryAdd(connection, 0);

    public void Unregister(FrameConnection connection)
    {
        if (_connections.TryRemove(connection, out _) && Volatile.Read(ref _emptied) is { } emptied && _connections.IsEmpty)
        {
            emptied.TrySetResult();
        }
    }

    /// <summary>
    /// For the end of the server's life: completes once no frame connection is running. After the host has stopped,
    /// a handler it gave up on at the shutdown timeout may still hold its connection.
    /// </summary>
    public Task WhenEmptyAsync()
    {
        Interlocked.CompareExchange(ref _emptied, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);
        TaskCompletionSource emptied = _emptied;
        if (_connections.IsEmpty)
        {
            emptied.TrySetResult();
        }

        return emptied.Task;
    }

    /// <summary>Requests read and not yet answered, summed over connections; for the in-flight gauge at scrape time.</summary>
    public int CountUnansweredRequests()
    {
        int unanswered = 0;
        foreach (KeyValuePair<FrameConnection, byte> entry in _connections)
        {
            unanswered += entry.Key.UnansweredRequests;
        }

        return unanswered;
    }

    /// <summary>The shutdown timeout ran out: abort every connection still open. Returns the requests left unanswered.</summary>
    public int AbortAll()
    {
        int unanswered = 0;
        foreach (KeyValuePair<FrameConnection, byte> entry in _connections)
        {
            unanswered += entry.Key.AbortForShutdown();
        }

        return unanswered;
    }

    /// <summary>Heartbeat: lets every connection check its deadlines against <paramref name="now"/>.</summary>
    public void OnHeartbeat(long now)
    {
        // Enumerating the dictionary itself takes no snapshot: one enumerator a tick, whatever the connection count.
        foreach (KeyValuePair<FrameConnection, byte> entry in _connections)
        {
            entry.Key.OnHeartbeat(now);
        }
    }
}
