namespace KeyValue.Server;

/// <summary>What the server keeps about one connection while it is open: here, how many requests it sent.</summary>
/// <param name="connectionId">The connection's id, as <c>FrameConnectionInfo.Id</c> gives it.</param>
public sealed class KeyValueSession(string connectionId)
{
    private long _requests;

    /// <summary>The connection this session belongs to.</summary>
    public string ConnectionId { get; } = connectionId;

    /// <summary>Requests the connection sent so far (heartbeats never reach the handler, so they do not count).</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>
    /// Counts one request and returns the new count. Atomic: a connection's pipelined requests run on several workers
    /// at once, so one session is updated from several threads.
    /// </summary>
    public long CountRequest() => Interlocked.Increment(ref _requests);
}
