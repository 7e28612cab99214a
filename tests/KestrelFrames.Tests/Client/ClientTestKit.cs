using System.Net;
using System.Net.Sockets;
using System.Text;
using KestrelFrames.Client;
using KestrelFrames.Tests.Infrastructure;

namespace KestrelFrames.Tests.Client;

/// <summary>Small helpers shared by the client tests.</summary>
public static class ClientTestKit
{
    /// <summary>
    /// Shed mode with one worker, a queue of one, and a byte budget of exactly one 16-byte request: while that request
    /// is held in the handler, any other request is refused at once, whichever connection it comes on.
    /// </summary>
    public static readonly Dictionary<string, string?> ShedSettings = new()
    {
        ["Frames:OverloadMode"] = "Shed",
        ["Frames:Workers"] = "1",
        ["Frames:QueueCapacity"] = "1",
        ["Frames:MaxFrameSize"] = "16",
        ["Frames:MaxBufferedBytes"] = "16",
    };

    /// <summary>A request of 16 bytes, all of <see cref="ShedSettings"/>' budget, that a handler gated on its text can hold.</summary>
    public static readonly byte[] Hold = "hold-the-budget!"u8.ToArray();

    /// <summary>
    /// One worker and a queue of one, in Backpressure mode: while the first request is held in the handler the server
    /// takes in two more and reads nothing else, so a drain leaves the rest unprocessed.
    /// </summary>
    public static readonly Dictionary<string, string?> NarrowSettings = new()
    {
        ["Frames:Workers"] = "1",
        ["Frames:QueueCapacity"] = "1",

        // The ring, not the queue, is what keeps the later requests unread: a read's requests enter the queue as one item.
        ["Frames:MaxInFlightPerConnection"] = "2",
    };

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
