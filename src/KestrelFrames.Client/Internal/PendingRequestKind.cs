namespace KestrelFrames.Client.Internal;

/// <summary>What a <see cref="PendingRequest"/> carries.</summary>
internal enum PendingRequestKind
{
    /// <summary>A request from <see cref="FrameClient.SendAsync(ReadOnlyMemory{byte}, CancellationToken)"/>: a non-empty payload whose caller awaits the answer.</summary>
    Request,

    /// <summary>A heartbeat from <see cref="FrameClient.PingAsync"/>: its caller awaits the empty answer.</summary>
    Ping,

    /// <summary>A heartbeat the client sends by itself to keep an idle connection open: nobody awaits it.</summary>
    Heartbeat,
}
