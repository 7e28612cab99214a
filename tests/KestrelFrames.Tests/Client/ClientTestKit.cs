using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Client;

/// <summary>Small helpers shared by the client tests.</summary>
public static class ClientTestKit
{
    /// <summary>A request payload that names itself, so an answer shows which request it belongs to.</summary>
    public static byte[] Tag(int index) => Encoding.UTF8.GetBytes(TagText(index));

    public static string TagText(int index) => $"request-{index:D4}";

    public static string Text(FrameResponse response) => Encoding.UTF8.GetString(response.Payload.Span);

    public static ValueTask<FrameClient> ConnectAsync(TestFrameServer server, FrameClientOptions? options = null) =>
        ConnectAsync(server.FramesEndPoint.Port, options);

    public static ValueTask<FrameClient> ConnectAsync(int port, FrameClientOptions? options = null) =>
        FrameClient.ConnectAsync(IPAddress.Loopback.ToString(), port, options);

    /// <summary>A loopback port that was free a moment ago, for a server that must come back on the same port.</summary>
    public static int FreePort()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    /// <summary>Settings that put the server's frames endpoint on <paramref name="port"/>.</summary>
    public static Dictionary<string, string?> OnPort(int port, Dictionary<string, string?>? settings = null)
    {
        Dictionary<string, string?> result = settings is null ? [] : new(settings);
        result["Kestrel:Endpoints:Frames:Url"] = $"http://127.0.0.1:{port}";
        return result;
    }
}
