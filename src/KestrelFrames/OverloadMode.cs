namespace KestrelFrames;

/// <summary>What a connection does with a request when the worker pool's queue is full.</summary>
public enum OverloadMode
{
    /// <summary>Stop reading the connection until the queue has room, so TCP pushes back on the client.</summary>
    Backpressure,

    /// <summary>Answer the request at once with a Busy status frame, without running it; the connection stays open.</summary>
    Shed,
}
