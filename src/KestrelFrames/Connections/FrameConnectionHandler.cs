using Microsoft.AspNetCore.Connections;

namespace KestrelFrames.Connections;

/// <summary>
/// Kestrel's entry point for the Frames endpoint. Kestrel creates one instance per endpoint, so all per-connection
/// state lives in <see cref="FrameConnection"/>.
/// </summary>
internal sealed class FrameConnectionHandler(FrameServices services) : ConnectionHandler
{
    // Not async: the connection's own task is returned, sparing every connection a state-machine box.
    public override Task OnConnectedAsync(ConnectionContext connection) => new FrameConnection(connection, services).RunAsync();
}
