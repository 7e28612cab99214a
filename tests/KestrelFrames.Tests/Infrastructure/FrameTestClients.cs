using System.Net.Sockets;

namespace KestrelFrames.Tests.Infrastructure;

/// <summary>What tests that open many <see cref="FrameTestClient"/>s, or get closed on, do with them.</summary>
internal static class FrameTestClients
{
    /// <summary>
    /// True once the server has closed the connection. A server that closes with bytes of ours unread sends a reset
    /// instead of a FIN; Linux still delivers everything sent before it, so the reset only ever replaces the end.
    /// </summary>
    public static async Task<bool> IsClosedAsync(FrameTestClient client)
    {
        try
        {
            return await client.IsClosedByServerAsync();
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    /// <summary>An abortive close: linger 0 makes the close send RST instead of FIN, as a crashed client's does.</summary>
    public static void Reset(FrameTestClient client)
    {
        client.Socket.LingerState = new LingerOption(true, 0);
        client.Socket.Close();
    }

    public static void DisposeAll(IEnumerable<FrameTestClient> clients)
    {
        foreach (FrameTestClient client in clients)
        {
            client.Dispose();
        }
    }
}
