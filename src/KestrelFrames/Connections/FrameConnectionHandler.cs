using Microsoft.AspNetCore.Connections;

namespace KestrelFrames.Connections;

/// <summary>
/// Kestrel's entry point for the Frames endpoint. Kestrel creates one instance per endpoint, so all per-connection
/// state lives in <see cref="FrameConnection"/>.
/// </summary>
internal sealed class FrameConnectionHandler(FrameServices services) : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        await new FrameConnection(connection, services).RunAsync();
    }
}
