using System.Threading.Channels;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>Records both hooks; puts a session string in Items on connect.</summary>
internal sealed class RecordingLifecycle : IFrameConnectionLifecycle
{
    public Channel<FrameConnectionInfo> Connected { get; } = Channel.CreateUnbounded<FrameConnectionInfo>();

    public Channel<(FrameConnectionInfo Connection, FrameCloseReason Reason)> Closing { get; } =
        Channel.CreateUnbounded<(FrameConnectionInfo, FrameCloseReason)>();

    public bool FailOnConnect { get; init; }

    public Action? OnClosing { get; init; }

    /// <summary>Runs last in OnConnectedAsync, after the session is in Items.</summary>
    public Action<FrameConnectionInfo>? OnConnected { get; init; }

    public ValueTask OnConnectedAsync(FrameConnectionInfo connection, CancellationToken cancellationToken)
    {
        if (FailOnConnect)
        {
            throw new InvalidOperationException("The session store is down.");
        }

        connection.Items["session"] = $"session of {connection.Id}";
        Connected.Writer.TryWrite(connection);
        OnConnected?.Invoke(connection);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnClosingAsync(FrameConnectionInfo connection, FrameCloseReason reason)
    {
        OnClosing?.Invoke();
        Closing.Writer.TryWrite((connection, reason));
        return ValueTask.CompletedTask;
    }
}
